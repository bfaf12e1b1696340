package dev.belfry.netty.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.backoff.Backoff;
import dev.belfry.netty.dns.DnsDiscover.Status;
import dev.belfry.netty.dns.DnsResolutionException.Kind;
import dev.belfry.test.ManualClock;
import dev.belfry.test.VerifyAfterEach;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The refresh policy alone, on a {@link ManualClock}: when the next lookup runs (each timer at
 * exactly t-1 and t) and what each outcome does to the status, with no DNS involved.
 */
@ExtendWith(VerifyAfterEach.class)
class DnsRefreshTest {
    private static final Duration MIN_TTL = Duration.ofSeconds(1);
    private static final Duration MAX_TTL = Duration.ofMinutes(5);
    private static final Duration HOLD = Duration.ofSeconds(20);
    private static final Duration BACKOFF = Duration.ofSeconds(8);
    private static final Duration NANO = Duration.ofNanos(1);

    private final ManualClock clock = new ManualClock();
    private int lookups;
    private final DnsRefresh refresh =
            new DnsRefresh(clock, MIN_TTL, MAX_TTL, HOLD, Backoff.constant(BACKOFF), () -> lookups++);

    @AfterEach
    void close() {
        refresh.close();
    }

    @Test
    void startsWithNothingKnownAndNoTimer() {
        DnsRefresh.Snapshot state = refresh.snapshot();

        assertThat(state.status()).isEqualTo(Status.STARTING);
        assertThat(state.ttl()).isNull();
        assertThat(state.sinceLastSuccess()).isNull();
        assertThat(state.nextLookupIn()).isNull();
        assertThat(state.lookups()).isZero();
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void theNextLookupRunsWhenTheAnswersTtlExpiresNotBefore() {
        succeed(30);

        clock.advance(Duration.ofSeconds(30).minus(NANO));
        assertThat(lookups).isZero();
        assertThat(refresh.snapshot().nextLookupIn()).isEqualTo(NANO);

        clock.advance(NANO);
        assertThat(lookups).isEqualTo(1);
    }

    @Test
    void aTtlBelowTheMinimumWaitsTheMinimum() {
        DnsRefresh.Outcome outcome = succeed(0);

        assertThat(outcome.delay()).isEqualTo(MIN_TTL);
        assertThat(refresh.snapshot().ttl()).isEqualTo(MIN_TTL);
        clock.advance(MIN_TTL.minus(NANO));
        assertThat(lookups).isZero();
        clock.advance(NANO);
        assertThat(lookups).isEqualTo(1);
    }

    @Test
    void aTtlAboveTheMaximumWaitsTheMaximum() {
        DnsRefresh.Outcome outcome = succeed(86_400);

        assertThat(outcome.delay()).isEqualTo(MAX_TTL);
        clock.advance(MAX_TTL.minus(NANO));
        assertThat(lookups).isZero();
        clock.advance(NANO);
        assertThat(lookups).isEqualTo(1);
    }

    @Test
    void anAbsurdTtlIsClampedNotOverflowed() {
        assertThat(succeed(Long.MAX_VALUE).delay()).isEqualTo(MAX_TTL);
    }

    @Test
    void aFailureRetriesAfterTheBackoffAndHoldsTheLastAnswer() {
        succeed(30);
        clock.advance(Duration.ofSeconds(30));
        assertThat(refresh.beginLookup()).isTrue();

        DnsRefresh.Outcome outcome = fail(Kind.SERVFAIL, 2);

        assertThat(outcome.before()).isEqualTo(Status.OK);
        assertThat(outcome.after()).isEqualTo(Status.HOLDING);
        assertThat(outcome.failures()).isEqualTo(1);
        assertThat(outcome.drop()).isFalse();
        assertThat(refresh.snapshot().consecutiveFailures()).isEqualTo(1);
        assertThat(refresh.snapshot().lastError().kind()).isEqualTo(Kind.SERVFAIL);
        clock.advance(BACKOFF.minus(NANO));
        assertThat(lookups).isEqualTo(1);
        clock.advance(NANO);
        assertThat(lookups).isEqualTo(2);
    }

    @Test
    void nxdomainDropsEverythingAtTheFirstFailureAtOrAfterTheHoldNotBefore() {
        succeed(30);
        fail(Kind.NXDOMAIN, 2); // the run starts at t0

        clock.advance(HOLD.minus(NANO));
        DnsRefresh.Outcome justBefore = fail(Kind.NXDOMAIN, 2);
        assertThat(justBefore.after()).isEqualTo(Status.HOLDING);
        assertThat(justBefore.drop()).isFalse();

        clock.advance(NANO);
        DnsRefresh.Outcome atHold = fail(Kind.NXDOMAIN, 2);
        assertThat(atHold.after()).isEqualTo(Status.FAILED);
        assertThat(atHold.drop()).isTrue();
        assertThat(atHold.failures()).isEqualTo(3);
    }

    @Test
    void otherErrorsPastTheHoldKeepServingTheLastAnswerAsStale() {
        succeed(30);
        fail(Kind.TIMEOUT, 2);

        clock.advance(HOLD.minus(NANO));
        assertThat(fail(Kind.TIMEOUT, 2).after()).isEqualTo(Status.HOLDING);
        clock.advance(NANO);
        DnsRefresh.Outcome stale = fail(Kind.SERVFAIL, 2);

        assertThat(stale.before()).isEqualTo(Status.HOLDING);
        assertThat(stale.after()).isEqualTo(Status.STALE);
        assertThat(stale.drop()).isFalse();
        assertThat(fail(Kind.TIMEOUT, 2).before()).isEqualTo(Status.STALE);
    }

    @Test
    void aZeroHoldActsAtTheFirstFailure() {
        DnsRefresh noHold = new DnsRefresh(clock, MIN_TTL, MAX_TTL, Duration.ZERO, Backoff.constant(BACKOFF), () -> {});
        noHold.succeeded(30);

        DnsRefresh.Outcome outcome = noHold.failed(error(Kind.NXDOMAIN), 1);

        assertThat(outcome.drop()).isTrue();
        assertThat(outcome.after()).isEqualTo(Status.FAILED);
        noHold.close();
    }

    @Test
    void withNothingPublishedAFailureIsFailedWhateverTheHold() {
        DnsRefresh.Outcome outcome = fail(Kind.TIMEOUT, 0);

        assertThat(outcome.before()).isEqualTo(Status.STARTING);
        assertThat(outcome.after()).isEqualTo(Status.FAILED);
        assertThat(outcome.drop()).isFalse();
    }

    @Test
    void aSuccessAfterFailuresRecoversAndStartsTheHoldAfresh() {
        succeed(30);
        fail(Kind.NXDOMAIN, 2);
        clock.advance(HOLD);
        fail(Kind.NXDOMAIN, 2); // dropped here

        DnsRefresh.Outcome recovered = succeed(30);
        assertThat(recovered.recovered()).isTrue();
        assertThat(recovered.after()).isEqualTo(Status.OK);
        assertThat(refresh.snapshot().consecutiveFailures()).isZero();
        assertThat(refresh.snapshot().lastError()).as("kept for diagnostics").isNotNull();

        // A new run of failures gets the whole hold again.
        fail(Kind.NXDOMAIN, 2);
        clock.advance(HOLD.minus(NANO));
        assertThat(fail(Kind.NXDOMAIN, 2).drop()).isFalse();
    }

    @Test
    void reportsTheTimeSinceTheLastSuccessAndCountsEveryLookup() {
        succeed(30);
        clock.advance(Duration.ofSeconds(30));
        refresh.beginLookup();
        fail(Kind.TIMEOUT, 2);
        clock.advance(Duration.ofSeconds(3));

        DnsRefresh.Snapshot state = refresh.snapshot();
        assertThat(state.sinceLastSuccess()).isEqualTo(Duration.ofSeconds(33));
        assertThat(state.lookups()).isEqualTo(2);
        assertThat(state.nextLookupIn()).isEqualTo(BACKOFF.minusSeconds(3));
    }

    @Test
    void closingCancelsThePendingLookupAndIgnoresLaterOutcomes() {
        succeed(30);

        assertThat(refresh.close()).isTrue();
        assertThat(refresh.close()).as("only the first close counts").isFalse();

        assertThat(clock.pendingTasks()).isZero();
        clock.advance(Duration.ofSeconds(30));
        assertThat(lookups).isZero();
        assertThat(refresh.beginLookup()).isFalse();
        assertThat(refresh.succeeded(30)).isNull();
        assertThat(refresh.failed(error(Kind.TIMEOUT), 1)).isNull();
        assertThat(refresh.scheduleNext(Duration.ofSeconds(1))).isFalse();
        assertThat(refresh.snapshot().status()).isEqualTo(Status.CLOSED);
        assertThat(refresh.snapshot().nextLookupIn()).isNull();
    }

    // Each outcome is of a lookup that is running now, so the pending lookup (if any) is dropped first.
    private DnsRefresh.Outcome succeed(long ttlSeconds) {
        refresh.beginLookup();
        clock.cancelAll();
        DnsRefresh.Outcome outcome = refresh.succeeded(ttlSeconds);
        assertThat(outcome).isNotNull();
        assertThat(refresh.scheduleNext(outcome.delay())).isTrue();
        return outcome;
    }

    private DnsRefresh.Outcome fail(Kind kind, int published) {
        refresh.beginLookup();
        clock.cancelAll();
        DnsRefresh.Outcome outcome = refresh.failed(error(kind), published);
        assertThat(outcome).isNotNull();
        assertThat(refresh.scheduleNext(outcome.delay())).isTrue();
        return outcome;
    }

    private static DnsResolutionException error(Kind kind) {
        return new DnsResolutionException("api.belfry.test", kind, null);
    }
}
