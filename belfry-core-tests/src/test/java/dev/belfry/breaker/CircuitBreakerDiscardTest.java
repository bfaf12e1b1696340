package dev.belfry.breaker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.backoff.Backoff;
import dev.belfry.test.ManualClock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CircuitBreakerDiscardTest {

    /** A response holding a resource: counts its closes. */
    static final class Response implements AutoCloseable {
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }

    /**
     * A probe's success closes the circuit and wakes whoever waits for readiness on this thread,
     * before the probe's caller sees the answer; when that wake-up makes the caller give up (a
     * buffer hands on a hedge's backup, which wins and cancels the probe), the answer reaches no
     * one and must be closed. Found by the composition contract test (Hedge over Buffer over
     * CircuitBreaker; seed 20872).
     */
    @Test
    void aProbeAnswerThatArrivesAsTheCallerCancelsIsClosed() {
        ManualClock clock = new ManualClock();
        ArrayDeque<CompletableFuture<Response>> calls = new ArrayDeque<>();
        Service<String, Response> inner = request -> {
            CompletableFuture<Response> call = new CompletableFuture<>();
            calls.add(call);
            return call;
        };
        CircuitBreaker<String, Response> breaker = CircuitBreakerLayer.<String, Response>builder()
                .consecutiveFailures(1)
                .halfOpenCalls(1)
                .openInterval(Backoff.constant(Duration.ofMillis(10)))
                .clock(clock)
                .build()
                .wrap(inner);
        breaker.call("fails");
        calls.poll().completeExceptionally(new IllegalStateException("down"));
        clock.advanceMillis(10);
        CompletableFuture<Response> probe = breaker.call("probe");
        assertThat(breaker.readiness()).isEqualTo(Readiness.BUSY); // its one probe is out
        breaker.whenReady().thenRun(() -> probe.cancel(false));

        Response answer = new Response();
        calls.poll().complete(answer);

        assertThat(probe).isCancelled();
        assertThat(answer.closes)
                .as("the probe's answer, which reached no caller, is closed")
                .hasValue(1);
        assertThat(clock.pendingTasks()).isZero();
    }
}
