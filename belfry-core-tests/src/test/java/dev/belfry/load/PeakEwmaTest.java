package dev.belfry.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.belfry.AbandonedException;
import dev.belfry.Service;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class PeakEwmaTest extends LayerContractTest {
    private static final double MS = 1_000_000.0;

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return PeakEwma.<String, String>builder()
                .clock(clock)
                .failurePenalty(Duration.ofSeconds(1))
                .build()
                .measure(inner);
    }

    private PeakEwma<String, String> measured() {
        return (PeakEwma<String, String>) Load.<String, String>peakEwma(clock).measure(inner);
    }

    @Test
    void aPushbackTestThatThrowsStillCompletesTheCallerAndLowersPending() {
        PeakEwma<String, String> ewma = (PeakEwma<String, String>) PeakEwma.<String, String>builder()
                .clock(clock)
                .failurePenalty(Duration.ofSeconds(1))
                .pushback(response -> {
                    throw new IllegalStateException("broken pushback test");
                })
                .build()
                .measure(inner);
        CompletableFuture<String> result = ewma.call("a");
        assertThat(ewma.pending()).isEqualTo(1);
        inner.handle().respondNext("A");
        assertThat(result).isCompletedWithValue("A");
        assertThat(ewma.pending()).isZero();
    }

    @Test
    void startsAtTheInitialRttAndDecaysOnRead() {
        PeakEwma<String, String> ewma = measured();
        assertThat(ewma.rttEstimateNanos()).isEqualTo(30 * MS);
        assertThat(ewma.load()).as("not measured and idle: tried first").isZero();
        clock.advance(Duration.ofSeconds(10));
        assertThat(ewma.rttEstimateNanos()).isCloseTo(30 * MS * Math.exp(-1), within(1.0));
        clock.advance(Duration.ofSeconds(10));
        assertThat(ewma.rttEstimateNanos()).isCloseTo(30 * MS * Math.exp(-2), within(1.0));
    }

    @Test
    void theFirstResponseReplacesTheInitialRttAndLaterOnesBlendIn() {
        PeakEwma<String, String> fast = measured();
        PeakEwma<String, String> slow = measured();
        CompletableFuture<String> a = fast.call("a");
        CompletableFuture<String> b = slow.call("b");
        clock.advance(Duration.ofNanos(300_000));
        inner.handle().respondNext("A");
        assertThat(a).isDone();
        assertThat(fast.rttEstimateNanos())
                .as("not 30 ms blended with 0.3 ms, which would still read about 30 ms")
                .isEqualTo(0.3 * MS);
        clock.advance(Duration.ofNanos(19_700_000));
        inner.handle().respondNext("B");
        assertThat(b).isDone();
        assertThat(slow.rttEstimateNanos()).isEqualTo(20 * MS);
        assertThat(slow.load() / fast.load())
                .as("the slow endpoint costs its latency's worth more")
                .isGreaterThan(60);

        clock.advance(Duration.ofSeconds(1));
        CompletableFuture<String> c = fast.call("c");
        clock.advanceMillis(1);
        inner.handle().respondNext("C");
        assertThat(c).isDone();
        assertThat(fast.rttEstimateNanos())
                .as("a slower second response is a peak and is taken at once")
                .isEqualTo(1 * MS);
        clock.advance(Duration.ofSeconds(1));
        CompletableFuture<String> d = fast.call("d");
        inner.handle().respondNext("D");
        assertThat(d).isDone();
        double weight = Math.exp(-1.0 / 10);
        assertThat(fast.rttEstimateNanos()).as("a faster one blends in").isCloseTo(1 * MS * weight, within(1.0));
    }

    @Test
    void loadIsTheEstimateTimesPendingPlusOne() {
        PeakEwma<String, String> ewma = measured();
        CompletableFuture<String> first = ewma.call("a");
        CompletableFuture<String> second = ewma.call("b");
        assertThat(ewma.pending()).isEqualTo(2);
        assertThat(ewma.load())
                .as("before the first response: the initial RTT per request in flight")
                .isEqualTo(60 * MS);
        clock.advanceMillis(4);
        inner.handle().respondNext("A");
        assertThat(first).isCompletedWithValue("A");
        assertThat(ewma.load()).as("measured: 4 ms times (1 pending + 1)").isEqualTo(8 * MS);
        inner.handle().respondNext("B");
        assertThat(second).isCompletedWithValue("B");
        assertThat(ewma.pending()).isZero();
    }

    @Test
    void aSlowerResponseIsTakenAtOnceAndAFasterOneBlendsIn() {
        PeakEwma<String, String> ewma = measured();
        CompletableFuture<String> slow = ewma.call("slow");
        clock.advanceMillis(50);
        inner.handle().respondNext("done");
        assertThat(slow).isDone();
        assertThat(ewma.rttEstimateNanos()).as("peak").isEqualTo(50 * MS);

        clock.advanceMillis(990);
        CompletableFuture<String> fast = ewma.call("fast");
        clock.advanceMillis(10);
        inner.handle().respondNext("done");
        assertThat(fast).isDone();
        double weight = Math.exp(-1.0 / 10);
        assertThat(ewma.rttEstimateNanos()).isCloseTo(50 * MS * weight + 10 * MS * (1 - weight), within(1.0));
    }

    @Test
    void howOftenTheLoadIsReadDoesNotChangeIt() {
        PeakEwma<String, String> readOften = measured();
        PeakEwma<String, String> readOnce = measured();
        for (int i = 0; i < 100; i++) {
            clock.advanceMillis(10);
            readOften.load();
        }
        assertThat(readOften.load()).isEqualTo(readOnce.load());
    }

    @Test
    void aFastFailureCountsAsThePenaltyWhenPenalised() {
        PeakEwma<String, String> plain = measured();
        PeakEwma<String, String> penalised = (PeakEwma<String, String>) wrap(inner, clock);
        CompletableFuture<String> a = plain.call("a");
        CompletableFuture<String> b = penalised.call("b");
        clock.advanceMillis(1);
        inner.handle().next().fail(new IllegalStateException("refused"));
        inner.handle().next().fail(new IllegalStateException("refused"));
        assertThat(a).isCompletedExceptionally();
        assertThat(b).isCompletedExceptionally();
        assertThat(plain.rttEstimateNanos()).as("a fast failure looks cheap").isEqualTo(1 * MS);
        assertThat(penalised.rttEstimateNanos()).isEqualTo(1000 * MS);
    }

    @Test
    void pushbackResponsesCountAsFailures() {
        PeakEwma<String, String> ewma = (PeakEwma<String, String>) PeakEwma.<String, String>builder()
                .clock(clock)
                .failurePenalty(Duration.ofMillis(500))
                .pushback(response -> response.startsWith("503"))
                .build()
                .measure(inner);
        CompletableFuture<String> ok = ewma.call("a");
        clock.advanceMillis(2);
        inner.handle().respondNext("200");
        assertThat(ok).isDone();
        assertThat(ewma.rttEstimateNanos()).isEqualTo(2 * MS);
        CompletableFuture<String> pushed = ewma.call("b");
        inner.handle().respondNext("503 retry-after: 1");
        assertThat(pushed).isCompletedWithValue("503 retry-after: 1");
        assertThat(ewma.rttEstimateNanos()).isEqualTo(500 * MS);
    }

    @Test
    void aCancelledCallIsNotSampledAndLeavesPendingExactlyOnce() {
        PeakEwma<String, String> ewma = measured();
        CompletableFuture<String> call = ewma.call("a");
        MockService.Pending<String, String> pending = inner.handle().next();
        clock.advance(Duration.ofSeconds(5));
        double before = ewma.rttEstimateNanos();
        call.cancel(true);
        call.cancel(true);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(ewma.pending()).isZero();
        assertThat(ewma.rttEstimateNanos()).isEqualTo(before);
    }

    @Test
    void anAbandonedCallRaisesTheEstimateToHowLongItRanAndOtherwiseHoldsIt() {
        PeakEwma<String, String> ewma = measured();
        CompletableFuture<String> slow = ewma.call("a");
        MockService.Pending<String, String> first = inner.handle().next();
        clock.advanceMillis(50);
        // A caller up the stack gives up on it; the abandonment reaches the measure below as it is.
        slow.completeExceptionally(new AbandonedException("a faster copy answered"));
        assertThat(first.isAbandoned()).isTrue();
        assertThat(ewma.pending()).isZero();
        assertThat(ewma.rttEstimateNanos()).as("at least as slow as it ran").isEqualTo(50 * MS);

        clock.advance(Duration.ofSeconds(5));
        CompletableFuture<String> again = ewma.call("b");
        clock.advanceMillis(10);
        inner.handle().next().fail(new AbandonedException("a faster copy answered"));
        assertThat(again).isCompletedExceptionally();
        assertThat(ewma.rttEstimateNanos())
                .as("held, not decayed and not pulled down to 10 ms")
                .isEqualTo(50 * MS);

        clock.advance(Duration.ofSeconds(10));
        assertThat(ewma.rttEstimateNanos())
                .as("without further requests it decays as usual")
                .isCloseTo(50 * MS * Math.exp(-1), within(1.0));
    }

    @Test
    void aRefusedTryCallLeavesNoTrace() {
        PeakEwma<String, String> ewma = measured();
        inner.handle().allow(0);
        assertThat(ewma.tryCall("a")).isNull();
        assertThat(ewma.pending()).isZero();
        assertThat(ewma.load()).isZero();
        assertThat(ewma.rttEstimateNanos()).isEqualTo(30 * MS);
    }

    @Test
    void pendingAndConstantLoadsCountAndReport() {
        Loaded<String, String> pending = Load.<String, String>pending().measure(inner);
        Loaded<String, String> constant = Load.<String, String>constant(7).measure(inner);
        CompletableFuture<String> a = pending.call("a");
        CompletableFuture<String> b = pending.call("b");
        CompletableFuture<String> c = constant.call("c");
        assertThat(pending.load()).isEqualTo(2);
        assertThat(constant.load()).isEqualTo(7);
        b.cancel(false);
        assertThat(pending.load()).isEqualTo(1);
        inner.handle().respondNext("A");
        inner.handle().next();
        inner.handle().respondNext("C");
        assertThat(pending.load()).isZero();
        assertThat(a).isCompletedWithValue("A");
        assertThat(c).isCompletedWithValue("C");
    }

    @Test
    void rejectsBadSettingsNamingThem() {
        assertThatThrownBy(() -> PeakEwma.builder().clock(clock).decay(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("decay must be positive, was PT0S");
        assertThatThrownBy(() -> PeakEwma.builder().clock(clock).initialRtt(Duration.ofMillis(-1)))
                .hasMessage("initialRtt must be positive, was PT-0.001S");
        assertThatThrownBy(() -> PeakEwma.builder()
                        .clock(clock)
                        .decay(Duration.ofSeconds(1))
                        .decay(Duration.ofSeconds(2)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("decay was already set to PT1S");
        assertThatThrownBy(() -> PeakEwma.<String, String>builder()
                        .clock(clock)
                        .pushback(r -> true)
                        .build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("failurePenalty");
        assertThatThrownBy(() -> Load.constant(Double.NaN)).hasMessage("load must be a number, was NaN");
    }
}
