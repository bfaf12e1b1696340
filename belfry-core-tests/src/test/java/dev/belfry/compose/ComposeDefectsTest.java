package dev.belfry.compose;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.backoff.Backoff;
import dev.belfry.balance.Balancer;
import dev.belfry.buffer.Buffer;
import dev.belfry.discover.Change;
import dev.belfry.discover.Discover;
import dev.belfry.health.HealthChecked;
import dev.belfry.health.HealthMonitor;
import dev.belfry.limit.ConcurrencyLimit;
import dev.belfry.limit.Permits;
import dev.belfry.load.PeakEwma;
import dev.belfry.retry.RetryLayer;
import dev.belfry.retry.RetryPolicy;
import dev.belfry.steer.Steer;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * One focused test for each composition defect listed in issue 12 (the fifth, the consistent-hash
 * ring, is {@code dev.belfry.balance.ConsistentHashRingSizeTest}: it needs the package's
 * internals). Each failed on the code the issue describes.
 */
class ComposeDefectsTest {
    private final ManualClock clock = new ManualClock();

    /**
     * Defect 1: Retry (nothing idempotent) over a balancer with maxWait over an endpoint limited to
     * one call. POST-2 waits, is admitted when POST-1 ends, and is still running when maxWait
     * passes: it must not fail as unprocessed and be sent again.
     */
    @Test
    void aWaiterAdmittedBeforeMaxWaitIsNeitherFailedNorSentTwice() {
        MockService<String, String> endpoint = MockService.create();
        var handle = endpoint.handle();
        Service<String, String> limited = new ConcurrencyLimit<>(endpoint, Permits.of(1));
        Balancer<String, String> balancer = Balancer.builder(Discover.of(Map.of("a", limited)))
                .roundRobin()
                .clock(clock)
                .maxWait(Duration.ofMillis(100))
                .build();
        Service<String, String> client = RetryLayer.of(
                        RetryPolicy.<String, String>standard()
                                .backoff(Backoff.constant(Duration.ofMillis(1)))
                                .build(),
                        clock)
                .wrap(balancer);

        CompletableFuture<String> post1 = client.call("POST-1");
        MockService.Pending<String, String> sent1 = handle.next();
        CompletableFuture<String> post2 = client.call("POST-2"); // waits in the balancer
        clock.advanceMillis(10);
        sent1.respond("ok-1");
        MockService.Pending<String, String> sent2 = handle.next(); // admitted as POST-1 ended
        assertThat(sent2.request()).isEqualTo("POST-2");

        clock.advanceMillis(200); // past maxWait, POST-2 still running
        assertThat(post2)
                .as("POST-2 reached the endpoint: no NoEndpointsException")
                .isNotDone();
        assertThat(sent2.isCancelled()).isFalse();
        sent2.respond("ok-2");

        assertThat(post1).isCompletedWithValue("ok-1");
        assertThat(post2).isCompletedWithValue("ok-2");
        handle.assertNoMoreRequests(); // POST-2 was sent once
        client.close();
        assertThat(clock.pendingTasks()).isZero();
    }

    /**
     * Defect 2: Buffer(1) over Steer over [ConcurrencyLimit(1) over A, B]. a-2 is queued while A is
     * busy (the steer says READY: B is ready); when a-1 ends, a-2 must be sent, and the buffer must
     * keep admitting.
     */
    @Test
    void aBufferKeepsDrainingWhenTheServiceBelowSaysReadyButRefuses() {
        MockService<String, String> a = MockService.create();
        MockService<String, String> b = MockService.create();
        Steer<String, String> steer = Steer.of(
                List.of(new ConcurrencyLimit<>(a, Permits.of(1)), b),
                (request, count) -> request.startsWith("a") ? 0 : 1);
        Buffer<String, String> buffer = new Buffer<>(steer, 1, clock);

        CompletableFuture<String> a1 = buffer.call("a-1");
        CompletableFuture<String> a2 = buffer.call("a-2"); // queued: A is busy
        a.handle().respondNext("one");
        assertThat(a1).isCompletedWithValue("one");

        assertThat(a.handle().respondNext("two"))
                .as("a-2 is sent once a-1 ends")
                .isEqualTo("a-2");
        assertThat(a2).isCompletedWithValue("two");
        CompletableFuture<String> b1 = buffer.call("b-1");
        assertThat(b.handle().respondNext("three")).isEqualTo("b-1");
        assertThat(b1).isCompletedWithValue("three");
        buffer.close();
    }

    /**
     * Defect 3, first half: a Peak-EWMA pushback test that throws must not leave the caller's
     * future (and the balancer's in-flight count) hanging.
     */
    @Test
    void aThrowingPushbackTestStillCompletesTheCaller() {
        MockService<String, String> endpoint = MockService.create();
        Balancer<String, String> balancer = Balancer.builder(Discover.of(Map.of("a", endpoint)))
                .p2c(PeakEwma.<String, String>builder()
                        .clock(clock)
                        .failurePenalty(Duration.ofMillis(100))
                        .pushback(response -> {
                            throw new IllegalStateException("a bug in the pushback test");
                        })
                        .build())
                .clock(clock)
                .failFast()
                .build();

        CompletableFuture<String> call = balancer.call("x");
        endpoint.handle().respondNext("answer");

        assertThat(call).as("the caller hears back").isDone();
        assertThat(balancer.endpoints().get(0).inflight()).isZero();
        balancer.close();
    }

    /** Defect 3, second half: a health failure test that throws must not hang the caller. */
    @Test
    void aThrowingHealthFailureTestStillCompletesTheCaller() {
        MockService<String, String> endpoint = MockService.create();
        HealthMonitor<String> monitor = HealthMonitor.<String>builder()
                .clock(clock)
                .failureTest(failure -> {
                    throw new IllegalStateException("a bug in the failure test");
                })
                .build();
        HealthChecked<String, String> checked = monitor.monitor("a", endpoint);
        IllegalArgumentException failure = new IllegalArgumentException("the endpoint's failure");

        CompletableFuture<String> call = checked.call("x");
        endpoint.handle().next().fail(failure);

        assertThat(call).as("the caller hears back").isDone();
        assertThat(call.handle((value, error) -> error).join()).isSameAs(failure);
        checked.close();
        assertThat(clock.pendingTasks()).isZero();
    }

    /**
     * Defect 4: an Error thrown by user code on the balancer's serial executor (the connect function
     * on a discovery change) must not stop the balancer from applying later changes.
     */
    @Test
    void anErrorFromTheConnectFunctionDoesNotStopDiscovery() {
        AtomicReference<Consumer<? super Change<String, String>>> listener = new AtomicReference<>();
        Discover<String, String> discover = subscriber -> {
            listener.set(subscriber);
            return () -> {};
        };
        MockService<String, String> good = MockService.create();
        Balancer<String, String> balancer = Balancer.builder(discover, (String key, String value) -> {
                    if (value.equals("broken")) {
                        throw new AssertionError("a bug in the connect function");
                    }
                    return good;
                })
                .roundRobin()
                .clock(clock)
                .failFast()
                .build();

        try {
            listener.get().accept(new Change.Insert<>("x", "broken"));
        } catch (AssertionError expected) {
            // Whether the Error reaches the discovery source is not the point; what follows is.
        }
        listener.get().accept(new Change.Insert<>("y", "fine"));

        CompletableFuture<String> call = balancer.call("request");
        assertThat(good.handle().respondNext("answer")).isEqualTo("request");
        assertThat(call).isCompletedWithValue("answer");
        balancer.close();
        assertThat(good.handle().closeCount()).isEqualTo(1);
    }
}
