package dev.belfry.bench;

import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.limit.ConcurrencyLimitLayer;
import dev.belfry.limit.RateLimitLayer;
import dev.belfry.map.MapResponseLayer;
import dev.belfry.shed.LoadShedLayer;
import dev.belfry.timeout.TimeoutLayer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one layer adds to a call: each core layer alone around a trivial service, next to the bare
 * service ({@code layer = none}). Subtract the {@code none} score of the same {@code inner} shape.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1)
public class SingleLayerBenchmark {
    @Param({"none", "timeout", "concurrencyLimit", "rateLimit", "loadShed", "mapResponse"})
    public String layer;

    @Param({"completed", "deferred"})
    public String inner;

    private final Object request = new Object();
    private Answers<Object> answers;
    private Service<Object, Object> service;

    @Setup(Level.Trial)
    public void setUp() {
        answers = new Answers<>(inner, new Object());
        Service<Object, Object> bare = answers.service();
        Layer<Object, Object, Object, Object> chosen = switch (layer) {
            case "none" -> Layer.identity();
            case "timeout" -> TimeoutLayer.of(Duration.ofSeconds(5));
            case "concurrencyLimit" -> ConcurrencyLimitLayer.of(1_000);
            case "rateLimit" -> RateLimitLayer.of(1_000_000_000L, Duration.ofSeconds(1));
            case "loadShed" -> LoadShedLayer.of();
            case "mapResponse" -> MapResponseLayer.of(value -> value);
            default -> throw new IllegalArgumentException("unknown layer " + layer);
        };
        service = chosen.wrap(bare);
    }

    @Benchmark
    public Object call() {
        return answers.finish(service.call(request));
    }
}
