package dev.belfry.reconnect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Futures;
import dev.belfry.OverloadedException;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.UnprocessedException;
import dev.belfry.backoff.Backoff;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ReconnectTest extends LayerContractTest {
    private static final Duration BACKOFF = Duration.ofMillis(50);

    /** Every connect attempt the factory was asked for, in order; the test completes them. */
    private final List<CompletableFuture<Service<String, String>>> attempts = new ArrayList<>();

    private final ServiceFactory<String, String> factory = () -> {
        CompletableFuture<Service<String, String>> attempt = new CompletableFuture<>();
        attempts.add(attempt);
        return attempt;
    };

    private final MockService<String, String> second = MockService.create();

    // The contract, for a reconnect whose factory hands over the given inner service at once.
    // connectNow() makes it connected before the test starts: a lazy reconnect reports BUSY until
    // its first use, and closing a never-connected one has no inner service to close.
    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        Reconnect<String, String> reconnect = Reconnect.<String, String>builder(
                        () -> CompletableFuture.completedFuture(inner))
                .clock(clock)
                .backoff(Backoff.constant(BACKOFF))
                .build();
        reconnect.connectNow();
        return reconnect;
    }

    private Reconnect<String, String> reconnect(Reconnect.Policy policy) {
        return Reconnect.builder(factory)
                .clock(clock)
                .backoff(Backoff.constant(BACKOFF))
                .policy(policy)
                .build();
    }

    private CompletableFuture<Service<String, String>> attempt(int index) {
        assertThat(attempts).as("connect attempts").hasSizeGreaterThan(index);
        return attempts.get(index);
    }

    @Test
    void connectsLazilyOnTheFirstCall() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        assertThat(attempts).isEmpty();
        assertThat(reconnect.readiness()).isEqualTo(Readiness.BUSY);

        CompletableFuture<String> result = reconnect.call("a");
        assertThat(attempts).hasSize(1);
        assertThat(result).isNotDone();
        attempt(0).complete(inner);

        assertThat(inner.handle().respondNext("A")).isEqualTo("a");
        assertThat(result).isCompletedWithValue("A");
        assertThat(reconnect.readiness()).isEqualTo(Readiness.READY);
        reconnect.call("b");
        assertThat(attempts).as("one connection serves later calls").hasSize(1);
        inner.handle().respondNext("B");
    }

    @Test
    void sendsWaitingCallsInOrderOnceConnected() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        List<CompletableFuture<String>> results = new ArrayList<>();
        for (String request : List.of("a", "b", "c")) {
            results.add(reconnect.call(request));
        }
        assertThat(attempts).as("one attempt for all waiting calls").hasSize(1);
        attempt(0).complete(inner);
        for (String request : List.of("a", "b", "c")) {
            assertThat(inner.handle().respondNext(request.toUpperCase(Locale.ROOT)))
                    .isEqualTo(request);
        }
        assertThat(results).extracting(CompletableFuture::join).containsExactly("A", "B", "C");
    }

    @Test
    void atMostMaxWaitingCallsWaitForAConnectionAndMoreFailAtOnce() {
        Reconnect<String, String> reconnect = Reconnect.builder(factory)
                .backoff(Backoff.constant(BACKOFF))
                .clock(clock)
                .maxWaiting(2)
                .build();
        CompletableFuture<String> a = reconnect.call("a");
        CompletableFuture<String> b = reconnect.call("b");
        assertThat(failureOf(reconnect.call("c")))
                .isInstanceOf(OverloadedException.class)
                .isInstanceOf(UnprocessedException.class)
                .hasMessage("2 calls already wait for a connection; the request was not sent");
        a.cancel(false);
        CompletableFuture<String> d = reconnect.call("d");
        attempt(0).complete(inner);
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
        assertThat(inner.handle().respondNext("D")).isEqualTo("d");
        assertThat(b).isCompletedWithValue("B");
        assertThat(d).isCompletedWithValue("D");
        reconnect.close();
    }

    @Test
    void connectNowConnectsBeforeTheFirstCall() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        reconnect.connectNow();
        reconnect.connectNow();
        assertThat(attempts).hasSize(1);
        attempt(0).complete(inner);
        assertThat(reconnect.readiness()).isEqualTo(Readiness.READY);
        assertThat(reconnect.tryCall("a")).isNotNull();
        inner.handle().respondNext("A");
    }

    @Test
    void reportsAFailedConnectWithItsCauseToEveryWaitingCall() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        CompletableFuture<String> a = reconnect.call("a");
        CompletableFuture<String> b = reconnect.call("b");
        IOException refused = new IOException("connection refused");
        attempt(0).completeExceptionally(refused);

        for (CompletableFuture<String> result : List.of(a, b)) {
            Throwable failure = failureOf(result);
            assertThat(failure)
                    .isInstanceOf(ConnectFailedException.class)
                    .isInstanceOf(UnprocessedException.class)
                    .hasCause(refused)
                    .hasMessageContaining("connection refused");
            assertThat(Futures.isUnprocessed(failure)).isTrue();
        }
        assertThat(reconnect.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(clock.pendingTasks()).as("no timer while nothing waits").isZero();
    }

    @Test
    void waitsOutTheBackoffBeforeConnectingAgainAtTMinusOneAndT() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        failFirstAttempt(reconnect);

        CompletableFuture<String> waiting = reconnect.call("b");
        assertThat(attempts).as("no attempt during the backoff").hasSize(1);
        assertThat(clock.pendingTasks()).as("one retry timer").isEqualTo(1);
        assertThat(clock.nextDelay()).isEqualTo(BACKOFF);
        reconnect.call("c");
        assertThat(clock.pendingTasks()).as("still one timer").isEqualTo(1);

        clock.advance(BACKOFF.minusNanos(1));
        assertThat(attempts).hasSize(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(attempts).hasSize(2);
        assertThat(clock.pendingTasks()).isZero();

        attempt(1).complete(inner);
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
        assertThat(inner.handle().respondNext("C")).isEqualTo("c");
        assertThat(waiting).isCompletedWithValue("B");
    }

    @Test
    void connectsLazilyOnTheFirstUseAfterTheBackoffWhenNothingWaited() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        failFirstAttempt(reconnect);
        clock.advance(BACKOFF.multipliedBy(10));
        assertThat(attempts).as("no attempt while nobody uses it").hasSize(1);

        CompletableFuture<String> result = reconnect.call("b");
        assertThat(attempts).hasSize(2);
        attempt(1).complete(inner);
        inner.handle().respondNext("B");
        assertThat(result).isCompletedWithValue("B");
    }

    @Test
    void failFastFailsWithTheLastConnectErrorUntilTheBackoffDeadline() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.FAIL_FAST);
        CompletableFuture<String> first = reconnect.call("a");
        assertThat(failureOf(first))
                .as("fail fast while connecting")
                .isInstanceOf(NotConnectedException.class)
                .isInstanceOf(UnprocessedException.class);
        IOException refused = new IOException("connection refused");
        attempt(0).completeExceptionally(refused);

        clock.advance(BACKOFF.minusNanos(1));
        assertThat(failureOf(reconnect.call("b")))
                .isInstanceOf(ConnectFailedException.class)
                .hasCause(refused);
        assertThat(attempts).hasSize(1);
        assertThat(clock.pendingTasks()).as("fail-fast calls arm no timer").isZero();

        clock.advance(Duration.ofNanos(1));
        assertThat(failureOf(reconnect.call("c"))).isInstanceOf(NotConnectedException.class);
        assertThat(attempts).as("the first call after the deadline connects").hasSize(2);
        attempt(1).complete(inner);

        CompletableFuture<String> sent = reconnect.call("d");
        assertThat(inner.handle().respondNext("D")).isEqualTo("d");
        assertThat(sent).isCompletedWithValue("D");
    }

    @Test
    void failFastSendsTheCallWhenTheFactoryConnectsAtOnce() {
        Reconnect<String, String> reconnect = Reconnect.<String, String>builder(
                        () -> CompletableFuture.completedFuture(inner))
                .clock(clock)
                .backoff(Backoff.constant(BACKOFF))
                .policy(Reconnect.Policy.FAIL_FAST)
                .build();
        CompletableFuture<String> result = reconnect.call("a");
        assertThat(inner.handle().respondNext("A")).isEqualTo("a");
        assertThat(result).isCompletedWithValue("A");
    }

    @Test
    void backsOffLongerWithEachConsecutiveFailureAndResetsOnSuccess() {
        List<Integer> asked = new ArrayList<>();
        Reconnect<String, String> reconnect = Reconnect.builder(factory)
                .clock(clock)
                .backoff(failures -> {
                    asked.add(failures);
                    return Duration.ofMillis(10L * failures);
                })
                .policy(Reconnect.Policy.FAIL_FAST)
                .build();
        reconnect.call("a");
        attempt(0).completeExceptionally(new IOException("1"));
        clock.advanceMillis(10);
        reconnect.call("b");
        attempt(1).completeExceptionally(new IOException("2"));
        clock.advanceMillis(19);
        assertThat(failureOf(reconnect.call("c"))).isInstanceOf(ConnectFailedException.class);
        clock.advanceMillis(1);
        reconnect.call("d");
        assertThat(attempts).hasSize(3);
        attempt(2).complete(inner);
        assertThat(asked).containsExactly(1, 2);

        inner.close();
        reconnect.call("e");
        attempt(3).completeExceptionally(new IOException("3"));
        assertThat(asked).as("the count restarts after a success").containsExactly(1, 2, 1);
    }

    @Test
    void reconnectsOnNextUseAfterTheInnerReportsClosed() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        reconnect.connectNow();
        attempt(0).complete(inner);
        inner.close();
        assertThat(reconnect.readiness()).as("a call would reconnect").isEqualTo(Readiness.BUSY);

        CompletableFuture<String> result = reconnect.call("a");
        assertThat(attempts).as("reconnects without backoff").hasSize(2);
        attempt(1).complete(second);
        assertThat(second.handle().respondNext("A")).isEqualTo("a");
        assertThat(result).isCompletedWithValue("A");
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void dropsAndClosesAnInnerWhoseCallFailsBecauseItClosed() {
        AtomicInteger closes = new AtomicInteger();
        ServiceClosedException gone = new ServiceClosedException("connection reset");
        Service<String, String> dying = new Service<>() {
            @Override
            public CompletableFuture<String> call(String request) {
                return CompletableFuture.failedFuture(gone);
            }

            @Override
            public void close() {
                closes.incrementAndGet();
            }
        };
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        reconnect.connectNow();
        attempt(0).complete(dying);

        assertThat(failureOf(reconnect.call("a")))
                .as("the failure passes through")
                .isSameAs(gone);
        assertThat(closes).hasValue(1);
        CompletableFuture<String> result = reconnect.call("b");
        assertThat(attempts).hasSize(2);
        attempt(1).complete(inner);
        inner.handle().respondNext("B");
        assertThat(result).isCompletedWithValue("B");
    }

    @Test
    void otherInnerFailuresKeepTheConnection() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        reconnect.connectNow();
        attempt(0).complete(inner);
        IllegalStateException broken = new IllegalStateException("bad request");
        CompletableFuture<String> result = reconnect.call("a");
        inner.handle().next().fail(broken);
        assertThat(failureOf(result)).isSameAs(broken);
        reconnect.call("b");
        inner.handle().respondNext("B");
        assertThat(attempts).hasSize(1);
        assertThat(inner.handle().closeCount()).isZero();
    }

    @Test
    void cancellingAWaitingCallWithdrawsOnlyThatCall() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        CompletableFuture<String> a = reconnect.call("a");
        CompletableFuture<String> b = reconnect.call("b");
        a.cancel(false);
        assertThat(attempt(0)).as("the attempt goes on").isNotDone();
        attempt(0).complete(inner);
        assertThat(inner.handle().respondNext("B")).isEqualTo("b");
        inner.handle().assertNoMoreRequests();
        assertThat(b).isCompletedWithValue("B");
    }

    @Test
    void cancellingTheLastCallWaitingOutABackoffCancelsTheRetryTimer() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        failFirstAttempt(reconnect);
        CompletableFuture<String> waiting = reconnect.call("b");
        assertThat(clock.pendingTasks()).isEqualTo(1);
        waiting.cancel(false);
        assertThat(clock.pendingTasks()).isZero();
        clock.advance(BACKOFF);
        assertThat(attempts).hasSize(1);
    }

    @Test
    void cancellingASentCallCancelsTheInnerCall() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        CompletableFuture<String> result = reconnect.call("a");
        attempt(0).complete(inner);
        MockService.Pending<String, String> pending = inner.handle().next();
        result.cancel(false);
        assertThat(pending.isCancelled()).isTrue();
    }

    @Test
    void closeDuringAConnectCancelsItAndFailsWaitingCalls() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        CompletableFuture<String> a = reconnect.call("a");
        reconnect.close();
        assertThat(attempt(0)).as("the connect is cancelled").isCancelled();
        assertThat(failureOf(a))
                .isInstanceOf(ServiceClosedException.class)
                .hasMessage("reconnect closed before the request was sent");
        assertThat(reconnect.readiness()).isEqualTo(Readiness.CLOSED);
        assertThat(failureOf(reconnect.call("b"))).isInstanceOf(ServiceClosedException.class);
        assertThat(reconnect.tryCall("c")).isNull();
        assertThat(reconnect.whenReady()).isCompleted();
        assertThat(attempts).hasSize(1);
    }

    @Test
    void aServiceDeliveredAfterCloseIsClosed() {
        CompletableFuture<Service<String, String>> source = new CompletableFuture<>();
        // A minimal stage cannot be cancelled through, so the factory's work runs to its end.
        Reconnect<String, String> reconnect = Reconnect.<String, String>builder(source::minimalCompletionStage)
                .clock(clock)
                .build();
        reconnect.connectNow();
        reconnect.close();
        source.complete(inner);
        assertThat(inner.handle().closeCount()).isEqualTo(1);
    }

    @Test
    void closeDuringABackoffCancelsTheRetryTimer() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        failFirstAttempt(reconnect);
        CompletableFuture<String> waiting = reconnect.call("b");
        reconnect.close();
        assertThat(clock.pendingTasks()).isZero();
        assertThat(failureOf(waiting)).isInstanceOf(ServiceClosedException.class);
    }

    @Test
    void closeClosesTheConnectedInner() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        reconnect.connectNow();
        attempt(0).complete(inner);
        reconnect.close();
        reconnect.close();
        assertThat(inner.handle().closeCount()).isEqualTo(1);
    }

    @Test
    void aThrowingFactoryIsAFailedConnect() {
        IllegalStateException boom = new IllegalStateException("no route to host");
        Reconnect<String, String> reconnect = Reconnect.<String, String>builder(() -> {
                    throw boom;
                })
                .clock(clock)
                .backoff(Backoff.constant(BACKOFF))
                .build();
        assertThat(failureOf(reconnect.call("a")))
                .isInstanceOf(ConnectFailedException.class)
                .hasCause(boom)
                .hasMessageContaining("no route to host");
    }

    @Test
    void aNullFutureOrNullServiceFromTheFactoryIsAFailedConnect() {
        Reconnect<String, String> nullFuture =
                Reconnect.<String, String>builder(() -> null).clock(clock).build();
        assertThat(failureOf(nullFuture.call("a")).getCause())
                .isInstanceOf(NullPointerException.class)
                .hasMessage("service factory returned a null stage");

        Reconnect<String, String> nullService = Reconnect.<String, String>builder(
                        () -> CompletableFuture.completedFuture(null))
                .clock(clock)
                .build();
        assertThat(failureOf(nullService.call("a")).getCause())
                .isInstanceOf(NullPointerException.class)
                .hasMessage("service factory completed with a null service");
    }

    @Test
    void readinessFollowsTheConnection() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        assertThat(reconnect.readiness()).as("idle").isEqualTo(Readiness.BUSY);
        reconnect.connectNow();
        assertThat(reconnect.readiness()).as("connecting").isEqualTo(Readiness.BUSY);
        attempt(0).complete(inner);
        assertThat(reconnect.readiness()).as("connected").isEqualTo(Readiness.READY);
        inner.handle().allow(0);
        assertThat(reconnect.readiness()).as("inner busy").isEqualTo(Readiness.BUSY);
        reconnect.close();
        assertThat(reconnect.readiness()).isEqualTo(Readiness.CLOSED);
    }

    @Test
    void whenReadyStartsConnectingAndCompletesOnceConnected() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        CompletableFuture<Void> ready = reconnect.whenReady().toCompletableFuture();
        assertThat(attempts).hasSize(1);
        assertThat(ready).isNotDone();
        attempt(0).complete(inner);
        assertThat(ready).isCompleted();
        assertThat(reconnect.readiness()).isEqualTo(Readiness.READY);
    }

    @Test
    void whenReadyDuringABackoffArrangesTheNextAttemptAtTheDeadline() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        failFirstAttempt(reconnect);
        CompletableFuture<Void> ready = reconnect.whenReady().toCompletableFuture();
        assertThat(clock.nextDelay()).isEqualTo(BACKOFF);
        clock.advance(BACKOFF);
        assertThat(attempts).hasSize(2);
        assertThat(ready).isNotDone();
        attempt(1).complete(inner);
        assertThat(ready).isCompleted();
    }

    @Test
    void tryCallStartsConnectingButNeverQueuesTheRequest() {
        Reconnect<String, String> reconnect = reconnect(Reconnect.Policy.WAIT);
        assertThat(reconnect.tryCall("a")).isNull();
        assertThat(attempts).hasSize(1);
        assertThat(reconnect.tryCall("b")).isNull();
        attempt(0).complete(inner);
        inner.handle().assertNoMoreRequests();
        CompletableFuture<String> admitted = reconnect.tryCall("c");
        assertThat(admitted).isNotNull();
        assertThat(inner.handle().respondNext("C")).isEqualTo("c");
    }

    @Test
    void rejectsBadSettingsNamingThem() {
        assertThatThrownBy(() -> Reconnect.builder(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("factory must not be null");
        Reconnect.Builder<String, String> builder = Reconnect.builder(factory);
        assertThatThrownBy(() -> builder.clock(null)).hasMessage("clock must not be null");
        builder.backoff(Backoff.constant(BACKOFF));
        assertThatThrownBy(() -> builder.backoff(Backoff.constant(BACKOFF)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("backoff was already set to ");
        builder.policy(Reconnect.Policy.FAIL_FAST);
        assertThatThrownBy(() -> builder.policy(Reconnect.Policy.WAIT))
                .hasMessage("policy was already set to FAIL_FAST");
        assertThat(builder.build().policy()).isEqualTo(Reconnect.Policy.FAIL_FAST);
        assertThat(Reconnect.builder(factory).build().policy()).isEqualTo(Reconnect.Policy.WAIT);
    }

    /** Makes one call start a connect attempt and fails that attempt; the call fails with it. */
    private void failFirstAttempt(Reconnect<String, String> reconnect) {
        CompletableFuture<String> first = reconnect.call("a");
        attempt(0).completeExceptionally(new IOException("connection refused"));
        assertThat(failureOf(first)).isInstanceOf(ConnectFailedException.class);
    }
}
