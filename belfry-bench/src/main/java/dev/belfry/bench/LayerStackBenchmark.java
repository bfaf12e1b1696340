package dev.belfry.bench;

import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.timelimiter.TimeLimiter;
import io.github.resilience4j.timelimiter.TimeLimiterConfig;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-call cost of a realistic protection stack (timeout, concurrency limit, rate limit, load
 * shed, response mapping) around a trivial service: Belfry against the same protections built from
 * Resilience4j (TimeLimiter, Bulkhead, RateLimiter) and against the bare service.
 *
 * <p>Two shapes of inner service: {@code completed} answers before {@code call} returns (the timeout
 * then needs no timer); {@code deferred} answers just after, so every stack must arm and cancel its
 * timeout timer, which is the realistic case for a network call. Limits are set high enough never
 * to refuse, so only the bookkeeping is measured. Run with {@code -prof gc} to see bytes per call.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1)
public class LayerStackBenchmark {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Param({"completed", "deferred"})
    public String inner;

    private Answers<Response> answers;

    private Service<Request, Response> bare;
    private Service<Request, Response> belfryTimeout;
    private Service<Request, Integer> belfryStack;

    private ScheduledExecutorService scheduler;
    private Supplier<CompletionStage<Integer>> resilience4jStack;
    private Supplier<CompletionStage<Response>> resilience4jTimeout;

    private final Request request = new Request("/");

    /** A request, as a service would see it. */
    public record Request(String path) {}

    /** A response, as a service would return it. */
    public record Response(int status) {}

    @Setup(Level.Trial)
    public void setUp() {
        answers = new Answers<>(inner, new Response(200));
        bare = answers.service();
        belfryTimeout =
                ServiceBuilder.<Request, Response>builder().timeout(TIMEOUT).service(bare);
        belfryStack = ServiceBuilder.<Request, Integer>builder()
                .timeout(TIMEOUT)
                .loadShed()
                .concurrencyLimit(1_000)
                .rateLimit(1_000_000_000L, Duration.ofSeconds(1))
                .<Response>mapResponse(Response::status)
                .service(bare);

        scheduler = Executors.newSingleThreadScheduledExecutor();
        TimeLimiter timeLimiter = TimeLimiter.of(TimeLimiterConfig.custom()
                .timeoutDuration(TIMEOUT)
                .cancelRunningFuture(true)
                .build());
        Bulkhead bulkhead = Bulkhead.of(
                "bench",
                BulkheadConfig.custom()
                        .maxConcurrentCalls(1_000)
                        .maxWaitDuration(Duration.ZERO)
                        .build());
        RateLimiter rateLimiter = RateLimiter.of(
                "bench",
                RateLimiterConfig.custom()
                        .limitForPeriod(1_000_000_000)
                        .limitRefreshPeriod(Duration.ofSeconds(1))
                        .timeoutDuration(Duration.ZERO)
                        .build());
        Supplier<CompletionStage<Response>> call = () -> bare.call(request);
        Supplier<CompletionStage<Response>> limited =
                RateLimiter.decorateCompletionStage(rateLimiter, Bulkhead.decorateCompletionStage(bulkhead, call));
        resilience4jStack =
                () -> timeLimiter.executeCompletionStage(scheduler, limited).thenApply(Response::status);
        resilience4jTimeout = () -> timeLimiter.executeCompletionStage(scheduler, call);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scheduler.shutdownNow();
    }

    private <T> T finish(CompletionStage<T> stage) {
        return answers.finish(stage);
    }

    @Benchmark
    public Response bareService() {
        return finish(bare.call(request));
    }

    @Benchmark
    public Response belfryTimeoutOnly() {
        return finish(belfryTimeout.call(request));
    }

    @Benchmark
    public Integer belfryStack() {
        return finish(belfryStack.call(request));
    }

    @Benchmark
    public Response resilience4jTimeoutOnly() {
        return finish(resilience4jTimeout.get());
    }

    @Benchmark
    public Integer resilience4jStack() {
        return finish(resilience4jStack.get());
    }
}
