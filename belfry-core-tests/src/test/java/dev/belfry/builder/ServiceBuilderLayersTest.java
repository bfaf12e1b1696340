package dev.belfry.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.OverloadedException;
import dev.belfry.Service;
import dev.belfry.Services;
import dev.belfry.limit.Permits;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import dev.belfry.timeout.ElapsedException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The builder's named layer methods build the layers they name, in order, on the builder's clock. */
@ExtendWith(VerifyAfterEach.class)
class ServiceBuilderLayersTest {
    final ManualClock clock = new ManualClock();
    final MockService<String, String> inner = MockService.create();

    @Test
    void timeoutOutsideALimitCoversTheTimeQueuedForAPermit() {
        Permits permits = Permits.of(1);
        assertThat(permits.tryAcquire()).as("the test holds the only permit").isTrue();
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .clock(clock)
                .timeout(Duration.ofMillis(100))
                .concurrencyLimit(permits)
                .service(inner);
        CompletableFuture<String> queued = service.call("queued");
        assertThat(permits.queued()).isEqualTo(1);
        clock.advance(Duration.ofMillis(99));
        assertThat(queued).isNotDone();
        clock.advance(Duration.ofMillis(1));
        assertThat(queued.exceptionNow()).isInstanceOf(ElapsedException.class);
        assertThat(permits.queued()).as("the timed-out caller left the line").isZero();
        permits.release();
        assertThat(permits.available()).isEqualTo(1);
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void loadShedOverALimitRefusesInsteadOfQueueing() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .loadShed()
                .concurrencyLimit(1)
                .service(inner);
        CompletableFuture<String> first = service.call("first");
        CompletableFuture<String> refused = service.call("refused");
        assertThat(refused).isCompletedExceptionally();
        assertThat(refused.exceptionNow()).isInstanceOf(OverloadedException.class);
        inner.handle().respondNext("ok");
        assertThat(first).isCompletedWithValue("ok");
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void rateLimitUsesTheBuilderClock() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .clock(clock)
                .rateLimit(1, Duration.ofSeconds(1))
                .service(inner);
        assertThat(service.call("a")).isNotNull();
        CompletableFuture<String> second = service.call("b");
        inner.handle().respondNext("A");
        inner.handle().assertNoMoreRequests();
        clock.advance(Duration.ofSeconds(1).minusNanos(1));
        inner.handle().assertNoMoreRequests();
        clock.advance(Duration.ofNanos(1));
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
        assertThat(second).isCompletedWithValue("B");
    }

    @Test
    void mapsAndFiltersComposeAcrossTypes() {
        MockService<Integer, Integer> numbers = MockService.create();
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .<Integer>mapResponse(n -> "#" + n)
                .filter(text -> {
                    if (text.isBlank()) {
                        throw new IllegalArgumentException("blank request");
                    }
                    return text;
                })
                .mapRequest(Integer::parseInt)
                .service(numbers);
        CompletableFuture<String> result = service.call("41");
        MockService.Pending<Integer, Integer> pending = numbers.handle().next();
        pending.respond(pending.request() + 1);
        assertThat(result).isCompletedWithValue("#42");
        assertThat(service.call(" ").exceptionNow()).hasMessage("blank request");
        numbers.handle().assertNoMoreRequests();
    }

    @Test
    void bufferQueuesWhileTheInnerServiceIsBusy() {
        inner.handle().allow(0);
        Service<String, String> service =
                ServiceBuilder.<String, String>builder().buffer(1).service(inner);
        CompletableFuture<String> queued = service.call("queued");
        assertThat(service.call("overflow").exceptionNow()).isInstanceOf(OverloadedException.class);
        inner.handle().allow(1);
        inner.handle().respondNext("done");
        assertThat(queued).isCompletedWithValue("done");
    }

    @Test
    void theClockMayBeSetOnlyOnce() {
        ServiceBuilder<String, String, String, String> builder =
                ServiceBuilder.<String, String>builder().clock(clock);
        assertThatThrownBy(() -> builder.clock(new ManualClock()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("clock was already set to ManualClock");
    }

    @Test
    void badArgumentsFailWhereTheLayerIsAdded() {
        ServiceBuilder<String, String, String, String> builder = ServiceBuilder.builder();
        assertThatThrownBy(() -> builder.timeout(Duration.ofMillis(-1)))
                .hasMessage("timeout must be positive, was PT-0.001S");
        assertThatThrownBy(() -> builder.concurrencyLimit(0)).hasMessage("max must be at least 1, was 0");
        assertThatThrownBy(() -> builder.concurrencyLimit(1, -1)).hasMessage("maxQueued must not be negative, was -1");
        assertThatThrownBy(() -> builder.buffer(0)).hasMessage("capacity must be at least 1, was 0");
        assertThatThrownBy(() -> builder.service(null)).hasMessage("inner must not be null");
    }

    @Test
    void timedOutCallsFailWithElapsedException() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .clock(clock)
                .timeout(Duration.ofMillis(5))
                .service(inner);
        CompletableFuture<String> result = service.call("x");
        clock.advance(Duration.ofMillis(5));
        assertThat(result.exceptionNow()).isInstanceOf(ElapsedException.class);
        assertThat(inner.handle().next().isCancelled()).isTrue();
    }

    @Test
    void theReadmeExampleWorksAsWritten() {
        // Kept in step with the "Using the core" example in README.md.
        Service<String, String> backend = Services.of(name -> CompletableFuture.completedFuture("hello " + name));

        Service<String, String> client = ServiceBuilder.<String, String>builder()
                .timeout(Duration.ofSeconds(2)) // first added = outermost: bounds the whole call
                .loadShed() // refuse at once (OverloadedException) when the limit is full...
                .concurrencyLimit(64) // ...of 64 calls in flight (without loadShed, callers wait in line)
                .service(backend);

        assertThat(client.call("world")).isCompletedWithValue("hello world");
    }
}
