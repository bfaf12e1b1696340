package dev.belfry;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ServicesTest {
    private static final long WAIT_SECONDS = 5;

    @Test
    void ofReturnsTheFunctionsOwnFutureSoCancellationReachesItsWork() {
        CompletableFuture<String> work = new CompletableFuture<>();
        Service<String, String> service = Services.of(request -> work);
        CompletableFuture<String> result = service.call("ping");
        assertThat(result).isSameAs(work);
        result.cancel(false);
        assertThat(work.isCancelled()).isTrue();
    }

    @Test
    void ofTurnsAThrowAndANullFutureIntoFailedFutures() {
        IllegalStateException broken = new IllegalStateException("broken");
        Service<String, String> throwing = Services.of(request -> {
            throw broken;
        });
        assertThat(failureOf(throwing.call("ping"))).isSameAs(broken);

        Service<String, String> nulling = Services.of(request -> null);
        assertThat(failureOf(nulling.call("ping")))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("a service returned a null future");
    }

    @Test
    void fromFunctionAnswersOnTheCallersThread() {
        Thread caller = Thread.currentThread();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        Service<String, Integer> service = Services.fromFunction(request -> {
            ranOn.set(Thread.currentThread());
            return request.length();
        });
        assertThat(service.call("four")).isCompletedWithValue(4);
        assertThat(ranOn.get()).isSameAs(caller);
    }

    @Test
    void fromFunctionTurnsAThrowIntoAFailedFuture() {
        IllegalArgumentException broken = new IllegalArgumentException("bad");
        Service<String, String> service = Services.fromFunction(request -> {
            throw broken;
        });
        assertThat(failureOf(service.call("ping"))).isSameAs(broken);
    }

    @Test
    void blockingRunsEachCallOnAVirtualThread() throws Exception {
        try (Service<String, Boolean> service =
                Services.blocking(request -> Thread.currentThread().isVirtual())) {
            assertThat(service.call("ping").get(WAIT_SECONDS, SECONDS)).isTrue();
        }
    }

    @Test
    void blockingTurnsAThrowIntoAFailedFuture() throws Exception {
        IllegalStateException broken = new IllegalStateException("broken");
        try (Service<String, String> service = Services.blocking(request -> {
            throw broken;
        })) {
            CompletableFuture<String> result = service.call("ping");
            assertThatThrownBy(() -> result.get(WAIT_SECONDS, SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isSameAs(broken);
        }
    }

    @Test
    void cancellingABlockingCallInterruptsItsThread() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        try (Service<String, String> service = Services.blocking(request -> {
            started.countDown();
            try {
                never.await(WAIT_SECONDS, SECONDS);
                return "not interrupted";
            } catch (InterruptedException e) {
                interrupted.countDown();
                return "interrupted";
            }
        })) {
            CompletableFuture<String> result = service.call("ping");
            assertThat(started.await(WAIT_SECONDS, SECONDS)).as("call started").isTrue();
            // cancel(false) too: the caller cannot know the work is blocking, so it always interrupts.
            result.cancel(false);
            assertThat(interrupted.await(WAIT_SECONDS, SECONDS))
                    .as("function interrupted")
                    .isTrue();
            assertThat(result.isCancelled()).isTrue();
        }
    }

    @Test
    void aClosedBlockingServiceFailsCallsWithServiceClosedException() {
        AtomicBoolean ran = new AtomicBoolean();
        Service<String, String> service = Services.blocking(request -> {
            ran.set(true);
            return request;
        });
        assertThat(service.readiness()).isEqualTo(Readiness.READY);
        service.close();
        service.close();
        assertThat(service.readiness()).isEqualTo(Readiness.CLOSED);
        CompletableFuture<String> result = service.call("ping");
        assertThat(failureOf(result))
                .isInstanceOf(ServiceClosedException.class)
                .hasMessage("blocking service is closed");
        assertThat(Futures.isUnprocessed(failureOf(result))).isTrue();
        assertThat(service.tryCall("ping")).as("tryCall on a closed service").isNull();
        assertThat(ran).isFalse();
    }

    @Test
    void closingABlockingServiceInterruptsRunningCalls() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        Service<String, String> service = Services.blocking(request -> {
            started.countDown();
            try {
                never.await(WAIT_SECONDS, SECONDS);
                return "not interrupted";
            } catch (InterruptedException e) {
                return "interrupted";
            }
        });
        CompletableFuture<String> result = service.call("ping");
        assertThat(started.await(WAIT_SECONDS, SECONDS)).as("call started").isTrue();
        service.close();
        assertThat(result.get(WAIT_SECONDS, SECONDS)).isEqualTo("interrupted");
    }

    @Test
    void constantAnswersEveryRequestWithItsOwnFuture() {
        Service<String, String> service = Services.constant("same");
        CompletableFuture<String> first = service.call("a");
        CompletableFuture<String> second = service.call("b");
        assertThat(first).isCompletedWithValue("same");
        assertThat(second).isCompletedWithValue("same");
        // A caller that obtrudes on its future must not change what others receive.
        first.obtrudeValue("changed");
        assertThat(service.call("c")).isCompletedWithValue("same");
    }

    @Test
    void failingFailsEveryRequestWithTheSameFailure() {
        OverloadedException failure = new OverloadedException("always");
        Service<String, String> service = Services.failing(failure);
        assertThat(failureOf(service.call("a"))).isSameAs(failure);
        assertThat(failureOf(service.call("b"))).isSameAs(failure);
    }

    @Test
    void aPlainServiceIsAlwaysReadyAndItsTryCallIsItsCall() {
        Service<String, String> service = Services.fromFunction(request -> request + "!");
        assertThat(service.readiness()).isEqualTo(Readiness.READY);
        assertThat(service.whenReady().toCompletableFuture()).isDone();
        assertThat(service.tryCall("ping")).isCompletedWithValue("ping!");
        service.close();
    }

    @Test
    void rejectsNullArgumentsNamingThem() {
        assertThatThrownBy(() -> Services.of(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("function must not be null");
        assertThatThrownBy(() -> Services.fromFunction(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("function must not be null");
        assertThatThrownBy(() -> Services.blocking(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("function must not be null");
        assertThatThrownBy(() -> Services.failing(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("failure must not be null");
    }

    private static Throwable failureOf(CompletableFuture<?> future) {
        assertThat(future).isDone();
        try {
            future.get();
        } catch (ExecutionException e) {
            return Futures.unwrap(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        throw new AssertionError("expected a failure, but completed with a value: " + future);
    }
}
