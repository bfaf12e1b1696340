package dev.belfry.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.balance.Routed;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.channel.FakeConnector.FakeMember;
import dev.belfry.test.ManualClock;
import dev.belfry.test.VerifyAfterEach;
import dev.belfry.timeout.ElapsedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class WarmPoolTest {
    private static final Duration NANO = Duration.ofNanos(1);

    final ManualClock clock = new ManualClock();
    private final FakeConnector connector = new FakeConnector();
    private final List<String> warnings = new ArrayList<>();
    private final List<String> notices = new ArrayList<>();
    private final PoolLog log = new PoolLog() {
        @Override
        public void warn(String message) {
            warnings.add(message);
        }

        @Override
        public void info(String message) {
            notices.add(message);
        }
    };
    private @Nullable WarmPool<String, String, String> pool;

    @AfterEach
    void closeThePoolAndCheckEveryMemberClosed() {
        if (pool != null) {
            pool.close();
            // Closing releases every member (and the verify step checks every timer was cancelled).
            assertThat(connector.open()).isEmpty();
        }
    }

    private WarmPool.Builder<String, String, String> builder(AddressSource<String> source) {
        return WarmPool.builder("users", source, connector)
                .clock(clock)
                .random(new SplittableRandom(42))
                .log(log);
    }

    private WarmPool<String, String, String> start(WarmPool.Builder<String, String, String> builder) {
        pool = builder.build();
        return pool;
    }

    private WarmPool<String, String, String> startOn(String... addresses) {
        return start(builder(AddressSource.of(List.of(addresses))));
    }

    private static PoolStatus status(WarmPool<?, ?, ?> pool) {
        return pool.status().join();
    }

    private static Throwable failure(CompletableFuture<?> future) {
        assertThat(future).isCompletedExceptionally();
        try {
            future.get();
            throw new AssertionError("not failed");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Connects attempts {@code from..to-1} and passes each new member's first probe. */
    private List<FakeMember> connectHealthy(int from, int to) {
        List<FakeMember> members = new ArrayList<>();
        for (int i = from; i < to; i++) {
            members.add(connector.attempt(i).connect());
        }
        for (FakeMember member : members) {
            member.pass();
        }
        return members;
    }

    /** A source the test answers by hand. */
    static final class HandSource implements AddressSource<String> {
        @Nullable
        Consumer<? super Resolution<String>> listener;

        boolean closed;

        @Override
        public AutoCloseable subscribe(Consumer<? super Resolution<String>> listener) {
            this.listener = listener;
            return () -> closed = true;
        }

        void answer(String... addresses) {
            if (listener == null) {
                throw new AssertionError("not subscribed");
            }
            listener.accept(Resolution.addresses(List.of(addresses)));
        }

        void fail(String why) {
            if (listener == null) {
                throw new AssertionError("not subscribed");
            }
            listener.accept(Resolution.failed(new IllegalStateException(why)));
        }
    }

    // ---- warm_channels' cases ----

    @Test
    void allMembersInitiallyUnhealthyServeNothingAndFailFastNamingThePool() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        // One member per address, at once.
        assertThat(connector.addresses()).containsExactly("a", "b", "c");
        PoolStatus status = status(pool);
        assertThat(status.state()).isEqualTo(PoolState.UNHEALTHY);
        assertThat(status.members()).isEqualTo(3);
        assertThat(status.healthy()).isZero();
        assertThat(status.lastError()).isEqualTo("still connecting");

        CompletableFuture<String> call = pool.call("x");
        clock.advance(Duration.ofSeconds(3).minus(NANO));
        assertThat(call).isNotDone();
        clock.advance(NANO);
        Throwable failed = failure(call);
        assertThat(failed).isInstanceOf(NoMemberReadyException.class);
        assertThat(failed.getMessage()).contains("'users'").contains("3000 ms").contains("still connecting");
        assertThat(((NoMemberReadyException) failed).pool()).isEqualTo("users");

        // Connected but not yet probed: still unusable.
        FakeMember a = connector.attempt(0).connect();
        FakeMember b = connector.attempt(1).connect();
        FakeMember c = connector.attempt(2).connect();
        assertThat(pool.tryCall("y")).isNull();
        assertThat(pool.readiness()).isEqualTo(Readiness.BUSY);

        // Every first probe fails: each is dropped and replaced, and the pool is unhealthy, not degraded.
        a.failProbe("NOT_SERVING");
        b.failProbe("NOT_SERVING");
        c.failProbe("NOT_SERVING");
        assertThat(List.of(a.closes, b.closes, c.closes)).containsExactly(1, 1, 1);
        status = status(pool);
        assertThat(status.state()).isEqualTo(PoolState.UNHEALTHY);
        assertThat(status.lastError()).isEqualTo("health check failed: NOT_SERVING (x3)");
        // Each address's backoff (500 ms +-50 %) ran out during the 3 s wait: replaced at once.
        assertThat(connector.addresses()).containsExactly("a", "b", "c", "a", "b", "c");
    }

    @Test
    void routeAvoidsTheMembersAlreadyTriedAndFailsFastLikeCall() {
        WarmPool<String, String, String> pool = startOn("a", "b");
        CompletableFuture<Routed<String>> waiting = pool.route("w", Set.of());
        clock.advance(Duration.ofSeconds(3));
        assertThat(failure(waiting)).isInstanceOf(NoMemberReadyException.class);

        connectHealthy(0, 2);
        Routed<String> first = pool.route("x", Set.of()).join();
        String firstAddress = first.response().join().substring(0, 1);
        for (int i = 0; i < 20; i++) {
            Routed<String> retry = pool.route("y", Set.of(first.endpoint())).join();
            assertThat(retry.endpoint()).isNotEqualTo(first.endpoint());
            assertThat(retry.response().join()).doesNotStartWith(firstAddress + ":");
        }
        // With every member avoided, one of them still takes the request.
        Routed<String> anyway = pool.route("z", Set.of(0L, 1L)).join();
        assertThat(anyway.response().join()).endsWith(":z");
    }

    @Test
    void routeAvoidsEveryMemberOnTheAddressOfOneAlreadyTried() {
        WarmPool<String, String, String> pool =
                start(builder(AddressSource.of(List.of("a", "b"))).want(4));
        // Two members per address: the second on each once the first's outcome is known.
        connectHealthy(0, 2);
        connectHealthy(2, 4);
        assertThat(connector.addresses()).containsExactlyInAnyOrder("a", "b", "a", "b");
        assertThat(status(pool).healthy()).isEqualTo(4);

        Routed<String> first = pool.route("x", Set.of()).join();
        String firstAddress = first.response().join().substring(0, 1);
        // The member on the same address could take the retry, but it goes to the other address.
        for (int i = 0; i < 20; i++) {
            Routed<String> retry = pool.route("y", Set.of(first.endpoint())).join();
            assertThat(retry.response().join()).doesNotStartWith(firstAddress + ":");
        }
        // A key the pool does not know (a member since dropped) avoids only itself.
        assertThat(pool.route("z", Set.of(99L)).join().response().join()).endsWith(":z");
    }

    @Test
    void addsOneAtATimeOnOneAddressAndAHealthyReportLetsTheNextStartAtOnce() {
        WarmPool<String, String, String> pool = startOn("a");
        assertThat(connector.count()).isEqualTo(1);
        FakeMember first = connector.attempt(0).connect();
        // No second connection to the same address until the first's outcome is known.
        assertThat(connector.count()).isEqualTo(1);
        first.pass();
        assertThat(connector.count()).isEqualTo(2);
        assertThat(status(pool).state()).isEqualTo(PoolState.UNHEALTHY);
        connector.attempt(1).connect().pass();
        assertThat(status(pool).state()).isEqualTo(PoolState.HEALTHY);
        assertThat(status(pool).lastError()).isNull();
        assertThat(connector.count()).isEqualTo(3);
        connector.attempt(2).connect().pass();
        // No more: the pool has what it wants.
        clock.advance(Duration.ofSeconds(5));
        assertThat(connector.count()).isEqualTo(3);
    }

    @Test
    void aHealthyMemberDroppedIsReplacedAtOnce() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        List<FakeMember> members = connectHealthy(0, 3);
        assertThat(status(pool).state()).isEqualTo(PoolState.HEALTHY);

        // The connection goes away: the member is closed and replaced without waiting.
        members.get(1).gone.complete(null);
        assertThat(members.get(1).closes).isEqualTo(1);
        assertThat(connector.count()).isEqualTo(4);
        assertThat(connector.attempt(3).address).isEqualTo("a");
        PoolStatus status = status(pool);
        assertThat(status.state()).isEqualTo(PoolState.HEALTHY);
        assertThat(status.healthy()).isEqualTo(2);
        assertThat(status.opened()).isEqualTo(4);

        // A failed probe outside degraded mode evicts the member too.
        clock.advance(Duration.ofSeconds(9));
        members.get(0).failProbe("NOT_SERVING");
        assertThat(members.get(0).closes).isEqualTo(1);
        assertThat(connector.count()).isEqualTo(5);
        assertThat(status(pool).state()).isEqualTo(PoolState.UNHEALTHY);
    }

    @Test
    void degradedModeIsEnteredBelowCriticalMinAndLeftWhenAMemberRecovers() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        List<PoolState> states = new ArrayList<>();
        pool.onStateChange(states::add);
        List<FakeMember> members = connectHealthy(0, 3);
        FakeMember a = members.get(0);
        FakeMember b = members.get(1);
        FakeMember c = members.get(2);

        clock.advance(Duration.ofSeconds(9));
        a.failProbe("down");
        assertThat(status(pool).state()).isEqualTo(PoolState.HEALTHY);
        b.failProbe("down");
        assertThat(List.of(a.closes, b.closes)).containsExactly(1, 1);
        assertThat(status(pool).state()).isEqualTo(PoolState.UNHEALTHY);
        // c is the last healthy member; it fails, and the pool keeps it, serving.
        c.failProbe("down");
        assertThat(c.closes).isZero();
        assertThat(status(pool).state()).isEqualTo(PoolState.DEGRADED);
        CompletableFuture<String> served = pool.tryCall("r");
        assertThat(served).isNotNull();
        assertThat(served.join()).isEqualTo("c:r");

        // Replacements that connect serve in degraded mode even before (and despite) their probes.
        FakeMember a2 = connector.attempt(3).connect();
        FakeMember b2 = connector.attempt(4).connect();
        a2.failProbe("still down");
        assertThat(a2.closes).isZero();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            CompletableFuture<String> response = pool.tryCall("q");
            assertThat(response).isNotNull();
            seen.merge(response.join().substring(0, 1), 1, Integer::sum);
        }
        assertThat(seen.keySet()).containsExactlyInAnyOrder("a", "b", "c");
        assertThat(status(pool).memberList()).allMatch(PoolStatus.MemberStatus::serving);

        // b2 passes: one healthy member again ends degraded mode, and the once-healthy c is dropped;
        // a2, never healthy, stays connected but stops serving.
        b2.pass();
        assertThat(c.closes).isEqualTo(1);
        assertThat(a2.closes).isZero();
        PoolStatus status = status(pool);
        assertThat(status.state()).isEqualTo(PoolState.UNHEALTHY);
        assertThat(status.memberList())
                .extracting(
                        PoolStatus.MemberStatus::address,
                        PoolStatus.MemberStatus::state,
                        PoolStatus.MemberStatus::serving)
                .contains(
                        org.assertj.core.groups.Tuple.tuple("a", "never healthy", false),
                        org.assertj.core.groups.Tuple.tuple("b", "healthy", true));
        for (int i = 0; i < 10; i++) {
            assertThat(pool.tryCall("q").join()).isEqualTo("b:q");
        }
        assertThat(states)
                .containsExactly(
                        PoolState.UNHEALTHY,
                        PoolState.HEALTHY,
                        PoolState.UNHEALTHY,
                        PoolState.DEGRADED,
                        PoolState.UNHEALTHY);
    }

    // ---- backoff and errors ----

    @Test
    void newConnectionsToAnAddressBackOffExponentiallyUpToTheCap() {
        start(builder(AddressSource.of(List.of("a"))).backoff(Duration.ofMillis(500), 1.5, 0.0, Duration.ofSeconds(1)));
        long[] waits = {500, 750, 1000, 1000};
        for (int i = 0; i < waits.length; i++) {
            connector.attempt(i).fail("refused");
            clock.advance(Duration.ofMillis(waits[i]).minus(NANO));
            assertThat(connector.count()).as("before wait %d", i).isEqualTo(i + 1);
            clock.advance(NANO);
            assertThat(connector.count()).as("after wait %d", i).isEqualTo(i + 2);
        }
    }

    @Test
    void backoffIsJitteredByHalfEitherWay() {
        for (long seed = 0; seed < 20; seed++) {
            ManualClock own = new ManualClock();
            FakeConnector connects = new FakeConnector();
            WarmPool<String, String, String> pool = WarmPool.builder("j", AddressSource.of(List.of("a")), connects)
                    .clock(own)
                    .random(new SplittableRandom(seed))
                    .log(log)
                    .build();
            connects.attempt(0).fail("refused");
            own.advance(Duration.ofMillis(250).minus(NANO));
            assertThat(connects.count()).isEqualTo(1);
            own.advance(Duration.ofMillis(500));
            assertThat(connects.count()).isEqualTo(2);
            pool.close();
            own.verify();
        }
    }

    @Test
    void theFirstHealthyReportResetsTheAddressBackoff() {
        WarmPool<String, String, String> pool = start(builder(AddressSource.of(List.of("a")))
                .backoff(Duration.ofMillis(500), 1.5, 0.0, Duration.ofSeconds(60)));
        connector.attempt(0).fail("refused");
        clock.advance(Duration.ofMillis(500));
        connector.attempt(1).fail("refused");
        clock.advance(Duration.ofMillis(750));
        FakeMember member = connector.attempt(2).connect();
        member.pass();
        // Reset: the next connection starts at once, and its failure waits the initial 500 ms again.
        assertThat(connector.count()).isEqualTo(4);
        connector.attempt(3).fail("refused");
        clock.advance(Duration.ofMillis(500).minus(NANO));
        assertThat(connector.count()).isEqualTo(4);
        clock.advance(NANO);
        assertThat(connector.count()).isEqualTo(5);
        assertThat(status(pool).healthy()).isEqualTo(1);
    }

    @Test
    void keepsTheLastThreeErrorsPerAddressWithTimesAndRepeatCounts() {
        WarmPool<String, String, String> pool = start(builder(AddressSource.of(List.of("a")))
                .backoff(Duration.ofMillis(100), 1.0, 0.0, Duration.ofMillis(100)));
        long start = clock.nanoTime();
        String[] errors = {"refused", "refused", "reset", "timeout", "boom"};
        for (int i = 0; i < errors.length; i++) {
            connector.attempt(i).fail(errors[i]);
            clock.advance(Duration.ofMillis(100));
        }
        List<RecordedError> kept = status(pool).addresses().get(0).errors();
        assertThat(kept)
                .extracting(RecordedError::message)
                .containsExactly(
                        "connection to a failed: reset",
                        "connection to a failed: timeout",
                        "connection to a failed: boom");

        // Before the oldest falls out, the repeat is folded into one entry with both times.
        ManualClock own = new ManualClock();
        FakeConnector connects = new FakeConnector();
        WarmPool<String, String, String> other = WarmPool.builder("e", AddressSource.of(List.of("a")), connects)
                .clock(own)
                .backoff(Duration.ofMillis(100), 1.0, 0.0, Duration.ofMillis(100))
                .log(log)
                .build();
        long t0 = own.nanoTime();
        connects.attempt(0).fail("refused");
        own.advance(Duration.ofMillis(100));
        connects.attempt(1).fail("refused");
        RecordedError folded = other.status().join().addresses().get(0).errors().get(0);
        assertThat(folded.count()).isEqualTo(2);
        assertThat(folded.firstNanos()).isEqualTo(t0);
        assertThat(folded.lastNanos() - folded.firstNanos())
                .isEqualTo(Duration.ofMillis(100).toNanos());
        assertThat(folded.toString()).isEqualTo("connection to a failed: refused (x2)");
        other.close();
        own.verify();
        assertThat(start).isPositive();
    }

    // ---- warnings ----

    @Test
    void warnsAfterTenSecondsThenEveryNinetyNamingTheLastError() {
        HandSource source = new HandSource();
        start(builder(source));
        clock.advance(Duration.ofSeconds(10).minus(NANO));
        assertThat(warnings).isEmpty();
        clock.advance(NANO);
        assertThat(warnings)
                .containsExactly("users: channel not healthy after 10s (0/3 healthy); name not resolved yet");
        clock.advance(Duration.ofSeconds(90).minus(NANO));
        assertThat(warnings).hasSize(1);
        clock.advance(NANO);
        assertThat(warnings.get(1))
                .isEqualTo("users: channel still not healthy after 1m 40s (0/3 healthy); name not resolved yet");

        source.answer("a", "b", "c");
        clock.advance(Duration.ofSeconds(90));
        assertThat(warnings.get(2)).endsWith("(0/3 healthy); still connecting");
        connector.attempt(0).fail("connection refused");
        clock.advance(Duration.ofSeconds(90));
        assertThat(warnings.get(3)).endsWith("(0/3 healthy); connection to a failed: connection refused");

        // Healthy: a notice, and the warnings stop.
        connector.attempt(1).connect().pass();
        connector.attempt(2).connect().pass();
        assertThat(notices).containsExactly("users: channel is healthy now (2/3 healthy)");
        int before = warnings.size();
        clock.advance(Duration.ofSeconds(8));
        connectorMembersPass();
        assertThat(warnings).hasSize(before);
    }

    private void connectorMembersPass() {
        for (FakeMember member : connector.open()) {
            if (member.probeCount() > 0
                    && !member.probes.get(member.probes.size() - 1).isDone()) {
                member.pass();
            }
        }
    }

    @Test
    void warningsCanBeTurnedOff() {
        start(builder(new HandSource()).warnings(null, null));
        clock.advance(Duration.ofHours(1));
        assertThat(warnings).isEmpty();
    }

    // ---- resolution ----

    @Test
    void keepsTheLastGoodAnswerOnFailuresAndEmptyAnswers() {
        HandSource source = new HandSource();
        WarmPool<String, String, String> pool = start(builder(source));
        source.fail("SERVFAIL");
        CompletableFuture<String> call = pool.call("x");
        clock.advance(Duration.ofSeconds(3));
        assertThat(failure(call).getMessage()).endsWith("last error: resolution failed: SERVFAIL");

        source.answer("a", "b", "c");
        List<FakeMember> members = connectHealthy(0, 3);
        source.fail("SERVFAIL");
        source.answer();
        assertThat(warnings).contains("users: resolution failed: SERVFAIL; keeping the last answer");
        PoolStatus status = status(pool);
        assertThat(status.addresses()).allMatch(PoolStatus.AddressStatus::resolved);
        assertThat(status.healthy()).isEqualTo(3);
        assertThat(members).allMatch(m -> m.closes == 0);
        assertThat(connector.count()).isEqualTo(3);
    }

    @Test
    void membersOnAnAddressThatLeftAreDrainedAndReplaced() {
        HandSource source = new HandSource();
        WarmPool<String, String, String> pool = start(builder(source));
        source.answer("a", "b", "c");
        List<FakeMember> members = connectHealthy(0, 3);
        FakeMember a = members.get(0);
        a.hold = true;
        // Send calls until one is in flight on a.
        List<CompletableFuture<String>> calls = new ArrayList<>();
        while (a.held.isEmpty()) {
            calls.add(pool.call("x"));
        }
        source.answer("b", "c", "d");
        // a takes no new requests but keeps its one in flight; d replaces it.
        assertThat(a.closes).isZero();
        assertThat(connector.attempt(3).address).isEqualTo("d");
        int callsOnA = a.calls;
        for (int i = 0; i < 30; i++) {
            pool.tryCall("y");
        }
        assertThat(a.calls).isEqualTo(callsOnA);
        a.releaseHeld();
        assertThat(calls.get(calls.size() - 1).join()).isEqualTo("a:late");
        assertThat(a.closes).isEqualTo(1);
        assertThat(status(pool).addresses())
                .extracting(PoolStatus.AddressStatus::address)
                .containsExactly("b", "c", "d");
    }

    @Test
    void withoutDrainingMembersOnAGoneAddressStayAsInWarmChannels() {
        HandSource source = new HandSource();
        WarmPool<String, String, String> pool = start(builder(source).drainRemovedAddresses(false));
        source.answer("a", "b", "c");
        List<FakeMember> members = connectHealthy(0, 3);
        source.answer("b", "c", "d");
        assertThat(members.get(0).closes).isZero();
        assertThat(connector.count()).isEqualTo(3);
        PoolStatus.AddressStatus a = status(pool).addresses().get(0);
        assertThat(a.address()).isEqualTo("a");
        assertThat(a.resolved()).isFalse();
        assertThat(a.members()).isEqualTo(1);
    }

    @Test
    void anIpLiteralIsAStaticSourceAndANameIsRefused() {
        List<Resolution<java.net.InetSocketAddress>> seen = new ArrayList<>();
        AddressSource.ipLiteral("10.0.0.7", 8080).subscribe(seen::add);
        AddressSource.ipLiteral("[::1]", 443).subscribe(seen::add);
        assertThat(seen)
                .extracting(r -> r.addresses().get(0).toString())
                .containsExactly("/10.0.0.7:8080", "/[0:0:0:0:0:0:0:1]:443");
        assertThatThrownBy(() -> AddressSource.ipLiteral("users.internal", 80))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'users.internal' is not an IP literal");
        assertThat(AddressSource.isIpLiteral("256.1.1.1")).isFalse();
    }

    // ---- health probing ----

    @Test
    void probesRepeatOnTheIntervalAndTimeOut() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        List<FakeMember> members = connectHealthy(0, 3);
        FakeMember a = members.get(0);
        assertThat(a.probeCount()).isEqualTo(1);
        clock.advance(Duration.ofSeconds(9).minus(NANO));
        assertThat(a.probeCount()).isEqualTo(1);
        clock.advance(NANO);
        assertThat(a.probeCount()).isEqualTo(2);
        members.get(1).pass();
        members.get(2).pass();
        CompletableFuture<Void> probe = a.pendingProbe();
        clock.advance(Duration.ofMillis(7500).minus(NANO));
        assertThat(probe).isNotDone();
        assertThat(a.closes).isZero();
        clock.advance(NANO);
        assertThat(probe).isCancelled();
        assertThat(a.closes).isEqualTo(1);
        assertThat(status(pool).lastError()).isEqualTo("health check timed out after 7500 ms");
    }

    @Test
    void hysteresisNeedsRisePassesAndFallFailures() {
        WarmPool<String, String, String> pool =
                start(builder(AddressSource.of(List.of("a", "b", "c"))).hysteresis(2, 3));
        List<FakeMember> members = connectHealthy(0, 3);
        FakeMember a = members.get(0);
        // One pass is not enough.
        assertThat(pool.tryCall("x")).isNull();
        assertThat(status(pool).healthy()).isZero();
        clock.advance(Duration.ofSeconds(9));
        members.forEach(FakeMember::pass);
        assertThat(status(pool).healthy()).isEqualTo(3);
        assertThat(pool.tryCall("x")).isNotNull();
        for (int i = 1; i <= 2; i++) {
            clock.advance(Duration.ofSeconds(9));
            a.failProbe("flaky");
            members.get(1).pass();
            members.get(2).pass();
            assertThat(a.closes).as("after %d failures", i).isZero();
            assertThat(status(pool).healthy()).isEqualTo(3);
        }
        clock.advance(Duration.ofSeconds(9));
        a.failProbe("flaky");
        members.get(1).pass();
        members.get(2).pass();
        assertThat(a.closes).isEqualTo(1);
        assertThat(status(pool).healthy()).isEqualTo(2);
    }

    // ---- beyond the crate ----

    @Test
    void membersAreReplacedAtTheirJitteredMaximumAge() {
        start(builder(AddressSource.of(List.of("a", "b", "c")))
                .healthyMin(0)
                .criticalMin(0)
                .healthChecks(Duration.ofHours(1), Duration.ofHours(1))
                .maxConnectionAge(Duration.ofSeconds(60), 0.1));
        List<FakeMember> members = connectHealthy(0, 3);
        clock.advance(Duration.ofSeconds(54).minus(NANO));
        assertThat(connector.count()).isEqualTo(3);
        clock.advance(Duration.ofSeconds(12));
        assertThat(members).allMatch(m -> m.closes == 1);
        assertThat(connector.count()).isEqualTo(6);
        // Their ages differ: jitter spreads the replacements.
        assertThat(connector.addresses().subList(3, 6)).containsExactlyInAnyOrder("a", "b", "c");
    }

    @Test
    void withoutJitterAMemberIsReplacedExactlyAtItsMaximumAge() {
        start(builder(AddressSource.of(List.of("a", "b", "c")))
                .healthyMin(0)
                .criticalMin(0)
                .healthChecks(Duration.ofHours(1), Duration.ofHours(1))
                .maxConnectionAge(Duration.ofSeconds(60), 0.0));
        List<FakeMember> members = connectHealthy(0, 3);
        clock.advance(Duration.ofSeconds(60).minus(NANO));
        assertThat(members).allMatch(m -> m.closes == 0);
        clock.advance(NANO);
        assertThat(members).allMatch(m -> m.closes == 1);
        assertThat(connector.addresses()).containsExactly("a", "b", "c", "a", "b", "c");
    }

    @Test
    void ageingOutNeverTakesThePoolBelowHealthyMin() {
        WarmPool<String, String, String> pool = start(builder(AddressSource.of(List.of("a", "b", "c")))
                .healthChecks(Duration.ofSeconds(30), Duration.ofHours(1))
                .maxConnectionAge(Duration.ofSeconds(60), 0.0));
        List<FakeMember> members = connectHealthy(0, 3);
        clock.advance(Duration.ofSeconds(60));
        // The first goes (3 healthy to 2); the others are needed for healthyMin (2) and wait.
        assertThat(members).extracting(m -> m.closes).containsExactly(1, 0, 0);
        assertThat(status(pool).state()).isEqualTo(PoolState.HEALTHY);
        connector.attempt(3).connect().pass();
        // The waiting ones look again one health interval (30 s) later, when three are healthy.
        clock.advance(Duration.ofSeconds(30).minus(NANO));
        assertThat(members).extracting(m -> m.closes).containsExactly(1, 0, 0);
        clock.advance(NANO);
        assertThat(members).extracting(m -> m.closes).containsExactly(1, 1, 0);
        assertThat(status(pool).state()).isEqualTo(PoolState.HEALTHY);
    }

    @Test
    void coreLayersWrapThePool() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        List<FakeMember> members = connectHealthy(0, 3);
        members.forEach(m -> m.hold = true);
        Service<String, String> stack = ServiceBuilder.<String, String>builder()
                .clock(clock)
                .timeout(Duration.ofMillis(200))
                .service(pool);
        CompletableFuture<String> call = stack.call("x");
        clock.advance(Duration.ofMillis(200).minus(NANO));
        assertThat(call).isNotDone();
        clock.advance(NANO);
        assertThat(failure(call)).isInstanceOf(ElapsedException.class);
        // The timeout cancelled the member's call through the pool.
        assertThat(members.stream().flatMap(m -> m.held.stream()))
                .singleElement()
                .satisfies(f -> assertThat(f).isCancelled());
    }

    @Test
    void whenReadyCompletesWhenThePoolFirstBecomesHealthy() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        CompletableFuture<Void> ready = pool.whenReady().toCompletableFuture();
        connector.attempt(0).connect().pass();
        assertThat(ready).isNotDone();
        connector.attempt(1).connect().pass();
        assertThat(ready).isCompleted();
    }

    @Test
    void aStateListenerGetsTheCurrentStateAtOnce() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        connectHealthy(0, 2);
        List<PoolState> states = new ArrayList<>();
        pool.onStateChange(states::add);
        assertThat(states).containsExactly(PoolState.HEALTHY);
    }

    @Test
    void spreadsRequestsOverHealthyMembers() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        connectHealthy(0, 3);
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            seen.merge(pool.call("x").join().substring(0, 1), 1, Integer::sum);
        }
        assertThat(seen).containsOnlyKeys("a", "b", "c");
        assertThat(seen.values()).allMatch(n -> n >= 50);
    }

    @Test
    void peakEwmaSendsFewerRequestsToAMemberThatIsSlowToAnswer() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        List<FakeMember> members = connectHealthy(0, 3);
        FakeMember slow = members.get(0);
        slow.hold = true;
        for (int i = 0; i < 300; i++) {
            pool.call("x");
            clock.advance(Duration.ofMillis(1));
            if (i % 10 == 9) {
                // The slow member answers only every 10 ms: its latency and pending count grow.
                slow.releaseHeld();
            }
        }
        slow.releaseHeld();
        int others = members.get(1).calls + members.get(2).calls;
        assertThat(slow.calls + others).isEqualTo(300);
        // Equal shares would be 100 each; the slow one gets well under half of that.
        assertThat(slow.calls).isLessThan(50);
        assertThat(members.get(1).calls).isGreaterThan(100);
        assertThat(members.get(2).calls).isGreaterThan(100);
    }

    @Test
    void aMemberThatFailsFastIsPricedAsSlowNotAsTheFastest() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        List<FakeMember> members = connectHealthy(0, 3);
        FakeMember failing = members.get(0);
        failing.failWith = "refused";
        int failed = spreadOneAMillisecond(pool, 300);
        // The others answer in no time here, and so does the failing one: without the failure
        // penalty all three cost nothing and share the calls (see the next test).
        assertThat(failing.calls).isLessThan(10);
        assertThat(failed).isEqualTo(failing.calls);
        assertThat(members.get(1).calls + members.get(2).calls).isGreaterThan(290);
    }

    @Test
    void withoutTheFailurePenaltyAMemberThatFailsFastKeepsItsShare() {
        WarmPool<String, String, String> pool =
                start(builder(AddressSource.of(List.of("a", "b", "c"))).failurePenalty(Duration.ZERO));
        List<FakeMember> members = connectHealthy(0, 3);
        FakeMember failing = members.get(0);
        failing.failWith = "refused";
        spreadOneAMillisecond(pool, 300);
        assertThat(failing.calls).isGreaterThan(60);
    }

    @Test
    void anAnswerThatBlamesTheServerCountsAsAFailure() {
        WarmPool<String, String, String> pool = start(
                builder(AddressSource.of(List.of("a", "b", "c"))).serverFault(answer -> answer.startsWith("503")));
        List<FakeMember> members = connectHealthy(0, 3);
        FakeMember overloaded = members.get(0);
        overloaded.answer = "503 overloaded";
        members.get(1).answer = "404 no such user";
        spreadOneAMillisecond(pool, 300);
        assertThat(overloaded.calls).isLessThan(10);
        assertThat(members.get(1).calls)
                .as("an answer that blames the request is no penalty")
                .isGreaterThan(60);
    }

    /** Makes {@code calls} calls one millisecond apart; returns how many failed. */
    private int spreadOneAMillisecond(WarmPool<String, String, String> pool, int calls) {
        int failed = 0;
        for (int i = 0; i < calls; i++) {
            if (pool.call("x").isCompletedExceptionally()) {
                failed++;
            }
            clock.advance(Duration.ofMillis(1));
        }
        return failed;
    }

    @Test
    void aCallWaitingForAMemberIsServedWhenOneBecomesUsable() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        CompletableFuture<String> call = pool.call("x");
        connector.attempt(0).connect().pass();
        assertThat(call).isCompletedWithValue("a:x");
    }

    @Test
    void closeClosesMembersCancelsTimersAndFailsCalls() {
        WarmPool<String, String, String> pool = startOn("a", "b", "c");
        connectHealthy(0, 2);
        FakeConnector.Attempt connecting = connector.attempt(2);
        pool.close();
        assertThat(connecting.future).isCancelled();
        assertThat(pool.readiness()).isEqualTo(Readiness.CLOSED);
        assertThat(failure(pool.call("x"))).isInstanceOf(ServiceClosedException.class);
        assertThat(connector.open()).isEmpty();
        pool.close();
    }

    @Test
    void settingsAreValidatedAndSetOnce() {
        assertThatThrownBy(() ->
                        builder(new HandSource()).healthyMin(1).criticalMin(2).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("criticalMin (2) must not exceed healthyMin (1)");
        assertThatThrownBy(() -> builder(new HandSource()).want(2).healthyMin(3).build())
                .hasMessage("healthyMin (3) must not exceed want (2)");
        assertThatThrownBy(() -> builder(new HandSource()).want(2).want(3))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("want was already set");
        WarmPool.Settings defaults = builder(new HandSource()).settings();
        assertThat(defaults.want()).isEqualTo(3);
        assertThat(defaults.healthyMin()).isEqualTo(2);
        assertThat(defaults.criticalMin()).isEqualTo(1);
        assertThat(defaults.warnAfter()).isEqualTo(Duration.ofSeconds(10));
        assertThat(defaults.warnEvery()).isEqualTo(Duration.ofSeconds(90));
        assertThat(defaults.initialBackoff()).isEqualTo(Duration.ofMillis(500));
        assertThat(defaults.maxBackoff()).isEqualTo(Duration.ofSeconds(60));
        assertThat(defaults.failFastWait()).isEqualTo(Duration.ofSeconds(3));
        assertThatThrownBy(() -> builder(new HandSource()).failurePenalty(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("failurePenalty must not be negative");
    }
}
