package dev.belfry.bench;

import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.retry.RetryPolicy;
import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeExecutor;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
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
 * The per-call cost of client resilience when nothing fails: retry (with its budget) + circuit
 * breaker + a coalescing miss in Belfry, against Resilience4j Retry + CircuitBreaker and Failsafe
 * RetryPolicy + CircuitBreaker, around the same trivial service, in the same run.
 *
 * <p>Failsafe runs with a direct executor so that, like the others, it completes on the calling
 * thread. Run with {@code -prof gc} for bytes per call.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1)
public class ResilienceBenchmark {
    @Param({"completed", "deferred"})
    public String inner;

    private final String request = "GET /";
    private Answers<String> answers;

    private Service<String, String> bare;
    private Service<String, String> belfry;
    private Service<String, String> belfryWithoutCoalesce;
    private ScheduledExecutorService scheduler;
    private Supplier<CompletionStage<String>> resilience4j;
    private FailsafeExecutor<String> failsafe;

    @Setup(Level.Trial)
    public void setUp() {
        answers = new Answers<>(inner, "200");
        bare = answers.service();
        belfry = ServiceBuilder.<String, String>builder()
                .retry(RetryPolicy.<String, String>standard().maxAttempts(3).build())
                .circuitBreaker()
                .coalesce(req -> req)
                .service(bare);

        // The same protections as the peers offer, without the coalescing they lack.
        belfryWithoutCoalesce = ServiceBuilder.<String, String>builder()
                .retry(RetryPolicy.<String, String>standard().maxAttempts(3).build())
                .circuitBreaker()
                .service(bare);

        scheduler = Executors.newSingleThreadScheduledExecutor();
        Retry retry = Retry.of("bench", RetryConfig.custom().maxAttempts(3).build());
        CircuitBreaker breaker = CircuitBreaker.ofDefaults("bench");
        Supplier<CompletionStage<String>> call = () -> bare.call(request);
        resilience4j = Retry.decorateCompletionStage(retry, scheduler, breaker.decorateCompletionStage(call));

        dev.failsafe.RetryPolicy<String> failsafeRetry =
                dev.failsafe.RetryPolicy.<String>builder().withMaxAttempts(3).build();
        dev.failsafe.CircuitBreaker<String> failsafeBreaker =
                dev.failsafe.CircuitBreaker.<String>builder().build();
        failsafe = Failsafe.with(failsafeRetry, failsafeBreaker).with((Executor) Runnable::run);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scheduler.shutdownNow();
    }

    private String finish(CompletionStage<String> stage) {
        return answers.finish(stage);
    }

    @Benchmark
    public String bareService() {
        return finish(bare.call(request));
    }

    @Benchmark
    public String belfryRetryBreakerCoalesce() {
        return finish(belfry.call(request));
    }

    @Benchmark
    public String belfryRetryBreaker() {
        return finish(belfryWithoutCoalesce.call(request));
    }

    @Benchmark
    public String resilience4jRetryBreaker() {
        return finish(resilience4j.get());
    }

    @Benchmark
    public String failsafeRetryBreaker() {
        return finish(failsafe.getStageAsync(() -> bare.call(request)));
    }
}
