package dev.belfry.channel.dns;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.backoff.Backoff;
import dev.belfry.channel.AddressSource;
import dev.belfry.channel.FakeConnector;
import dev.belfry.channel.FakeConnector.FakeMember;
import dev.belfry.channel.PoolLog;
import dev.belfry.channel.PoolStatus;
import dev.belfry.channel.Resolution;
import dev.belfry.channel.WarmPool;
import dev.belfry.netty.dns.DnsResolutionException;
import dev.belfry.netty.dns.TestDnsServer;
import dev.belfry.test.ManualClock;
import dev.belfry.test.NoNettyLeaks;
import dev.belfry.test.VerifyAfterEach;
import io.netty.resolver.ResolvedAddressTypes;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pool over {@link DnsAddressSource} against the real DNS server on loopback from {@code
 * belfry-netty}'s tests: answers, failures and timeouts come over UDP, while re-resolution timers
 * and the pool run on a {@link ManualClock}, so each "when" is the test's and only the round trip
 * takes real (bounded) time. Members are the hand-driven {@link FakeConnector}'s, named by address.
 */
@ExtendWith({VerifyAfterEach.class, NoNettyLeaks.class})
@Timeout(60)
class DnsAddressSourceTest {
    private static final String HOST = "users.belfry.test";
    private static final Duration NANO = Duration.ofNanos(1);
    private static final Duration RETRY = Duration.ofSeconds(2);

    final ManualClock clock = new ManualClock();
    private final FakeConnector connector = new FakeConnector();
    private final BlockingQueue<Resolution<String>> reports = new LinkedBlockingQueue<>();
    private final List<String> warnings = new ArrayList<>();
    private TestDnsServer server;
    private @Nullable WarmPool<String, String, String> pool;

    @BeforeEach
    void startServer() throws InterruptedException {
        server = TestDnsServer.start();
    }

    @AfterEach
    void closeEverything() throws InterruptedException {
        if (pool != null) {
            pool.close();
            assertThat(connector.open()).isEmpty();
        }
        server.close();
    }

    private DnsAddressSource.Builder dns() {
        return DnsAddressSource.builder(HOST, 8080)
                .clock(clock)
                .nameServers(List.of(server.address()))
                .queryTimeout(Duration.ofMillis(300))
                .backoff(Backoff.constant(RETRY));
    }

    /** The source as the pool sees it (addresses as "ip:port"), each report also queued for the test. */
    private AddressSource<String> observed(DnsAddressSource source) {
        AddressSource<String> named =
                source.map(address -> address.getAddress().getHostAddress() + ":" + address.getPort());
        return listener -> named.subscribe(resolution -> {
            // The pool first, so that a status taken after the report has seen it.
            listener.accept(resolution);
            reports.add(resolution);
        });
    }

    private WarmPool<String, String, String> start(
            DnsAddressSource source, Consumer<WarmPool.Builder<String, String, String>> options) {
        WarmPool.Builder<String, String, String> builder = WarmPool.builder("users", observed(source), connector)
                .clock(clock)
                .random(new SplittableRandom(7))
                .warnings(null, null)
                .log(new PoolLog() {
                    @Override
                    public void warn(String message) {
                        warnings.add(message);
                    }

                    @Override
                    public void info(String message) {}
                });
        options.accept(builder);
        pool = builder.build();
        return pool;
    }

    private Resolution<String> next() throws InterruptedException {
        Resolution<String> report = reports.poll(10, SECONDS);
        assertThat(report).as("a lookup's outcome within 10 s").isNotNull();
        return report;
    }

    private static PoolStatus status(WarmPool<?, ?, ?> pool) {
        return pool.status().join();
    }

    private static DnsResolutionException.Kind kind(Resolution<?> failed) {
        assertThat(failed.failure()).isInstanceOf(DnsResolutionException.class);
        return ((DnsResolutionException) failed.failure()).kind();
    }

    @Test
    void theFirstAnswerGivesThePoolEveryAddress() throws Exception {
        server.set(HOST, 30, "10.0.0.1", "10.0.0.2");
        WarmPool<String, String, String> users = start(
                dns().addressTypes(ResolvedAddressTypes.IPV4_ONLY).build(),
                b -> b.want(2).healthyMin(1));

        assertThat(next().addresses()).containsExactly("10.0.0.1:8080", "10.0.0.2:8080");
        assertThat(connector.addresses()).containsExactly("10.0.0.1:8080", "10.0.0.2:8080");
        assertThat(status(users).stale()).isFalse();
    }

    @Test
    void aAndAaaaRecordsBothBecomeAddresses() throws Exception {
        server.set(HOST, 30, "10.0.0.1", "fd00::1");
        start(
                dns().addressTypes(ResolvedAddressTypes.IPV4_PREFERRED).build(),
                b -> b.want(2).healthyMin(1));

        assertThat(next().addresses()).containsExactlyInAnyOrder("10.0.0.1:8080", "fd00:0:0:0:0:0:0:1:8080");
    }

    @Test
    void reResolvesWhenTheTtlRunsOutAndFollowsTheChange() throws Exception {
        server.set(HOST, 30, "10.0.0.1", "10.0.0.2");
        WarmPool<String, String, String> users = start(
                dns().addressTypes(ResolvedAddressTypes.IPV4_ONLY).build(),
                b -> b.want(2).healthyMin(1));
        next();
        int queries = server.queries();
        server.set(HOST, 45, "10.0.0.2", "10.0.0.3");

        clock.advance(Duration.ofSeconds(30).minus(NANO));
        assertThat(server.queries()).isEqualTo(queries);
        assertThat(reports).isEmpty();

        clock.advance(NANO);
        assertThat(next().addresses()).containsExactly("10.0.0.2:8080", "10.0.0.3:8080");
        assertThat(server.queries()).isEqualTo(queries + 1);
        PoolStatus status = status(users);
        assertThat(status.addresses())
                .filteredOn(PoolStatus.AddressStatus::resolved)
                .extracting(PoolStatus.AddressStatus::address)
                .containsExactlyInAnyOrder("10.0.0.2:8080", "10.0.0.3:8080");

        // The new TTL rules the next lookup: 45 s, not 30 s.
        clock.advance(Duration.ofSeconds(45).minus(NANO));
        assertThat(reports).isEmpty();
        clock.advance(NANO);
        assertThat(next().addresses()).containsExactly("10.0.0.2:8080", "10.0.0.3:8080");
    }

    @Test
    void aTtlBelowTheFloorWaitsTheFloorOfTenSeconds() throws Exception {
        server.set(HOST, 1, "10.0.0.1");
        start(
                dns().addressTypes(ResolvedAddressTypes.IPV4_ONLY).build(),
                b -> b.want(2).healthyMin(1));
        next();

        clock.advance(Duration.ofSeconds(10).minus(NANO));
        assertThat(reports).isEmpty();
        clock.advance(NANO);
        assertThat(next().addresses()).containsExactly("10.0.0.1:8080");
    }

    @Test
    void theFloorIsConfigurable() throws Exception {
        server.set(HOST, 0, "10.0.0.1");
        start(
                dns().addressTypes(ResolvedAddressTypes.IPV4_ONLY)
                        .ttlBounds(Duration.ofSeconds(2), Duration.ofSeconds(20))
                        .build(),
                b -> b.want(2).healthyMin(1));
        next();

        clock.advance(Duration.ofSeconds(2).minus(NANO));
        assertThat(reports).isEmpty();
        clock.advance(NANO);
        next();
        // And the ceiling: a day-long TTL is looked at again after 20 s.
        server.set(HOST, 86_400, "10.0.0.1");
        clock.advance(Duration.ofSeconds(2));
        next();
        clock.advance(Duration.ofSeconds(20).minus(NANO));
        assertThat(reports).isEmpty();
        clock.advance(NANO);
        next();
    }

    @Test
    void nxdomainKeepsTheLastAnswerMarkedStaleUntilTheNameReturns() throws Exception {
        server.set(HOST, 10, "10.0.0.1", "10.0.0.2");
        WarmPool<String, String, String> users = start(
                dns().addressTypes(ResolvedAddressTypes.IPV4_ONLY).build(),
                b -> b.want(2).healthyMin(1));
        next();
        int attempts = connector.count();
        server.remove(HOST);

        clock.advance(Duration.ofSeconds(10));
        assertThat(kind(next())).isEqualTo(DnsResolutionException.Kind.NXDOMAIN);
        PoolStatus stale = status(users);
        assertThat(stale.stale()).isTrue();
        assertThat(stale.addresses()).allSatisfy(address -> {
            assertThat(address.resolved()).isTrue();
            assertThat(address.stale()).isTrue();
        });
        assertThat(stale.resolutionError()).isNotNull();
        assertThat(stale.resolutionError().message())
                .isEqualTo("resolution failed: could not resolve " + HOST + ": NXDOMAIN (the name does not exist)");
        assertThat(warnings)
                .containsExactly("users: resolution failed: could not resolve " + HOST
                        + ": NXDOMAIN (the name does not exist); keeping the last answer");
        // Nothing was dropped or reconnected.
        assertThat(connector.count()).isEqualTo(attempts);
        assertThat(users.counts().stale()).isTrue();
        assertThat(users.counts().resolutionFailures()).isEqualTo(1);

        // A second failure is counted, not warned again.
        clock.advance(RETRY);
        assertThat(kind(next())).isEqualTo(DnsResolutionException.Kind.NXDOMAIN);
        assertThat(status(users).resolutionError().count()).isEqualTo(2);
        assertThat(warnings).hasSize(1);

        server.set(HOST, 10, "10.0.0.1", "10.0.0.2");
        clock.advance(RETRY);
        assertThat(next().addresses()).containsExactly("10.0.0.1:8080", "10.0.0.2:8080");
        PoolStatus fresh = status(users);
        assertThat(fresh.stale()).isFalse();
        assertThat(fresh.addresses()).noneMatch(PoolStatus.AddressStatus::stale);
        // The last failure stays on record after recovery, with its repeat count.
        assertThat(fresh.resolutionError().count()).isEqualTo(2);
    }

    @Test
    void servfailAndTimeoutsKeepTheLastAnswer() throws Exception {
        server.set(HOST, 10, "10.0.0.1");
        WarmPool<String, String, String> users = start(
                dns().addressTypes(ResolvedAddressTypes.IPV4_ONLY).build(),
                b -> b.want(2).healthyMin(1));
        next();

        server.mode(TestDnsServer.Mode.SERVFAIL);
        clock.advance(Duration.ofSeconds(10));
        assertThat(kind(next())).isEqualTo(DnsResolutionException.Kind.SERVFAIL);

        server.mode(TestDnsServer.Mode.DROP);
        clock.advance(RETRY);
        Resolution<String> timedOut = next();
        assertThat(kind(timedOut)).isEqualTo(DnsResolutionException.Kind.TIMEOUT);

        PoolStatus status = status(users);
        assertThat(status.stale()).isTrue();
        assertThat(status.addresses())
                .extracting(PoolStatus.AddressStatus::address)
                .containsExactly("10.0.0.1:8080");
        assertThat(status.resolutionError().message()).contains("TIMEOUT");
        assertThat(users.counts().resolutionFailures()).isEqualTo(2);
    }

    @Test
    void anAnswerWithNoAddressesKeepsTheLastAnswer() throws Exception {
        server.set(HOST, 10, "10.0.0.1");
        WarmPool<String, String, String> users = start(
                dns().addressTypes(ResolvedAddressTypes.IPV4_ONLY).build(),
                b -> b.want(2).healthyMin(1));
        next();

        server.set(HOST, 10);
        clock.advance(Duration.ofSeconds(10));
        assertThat(kind(next())).isEqualTo(DnsResolutionException.Kind.NO_RECORDS);

        PoolStatus status = status(users);
        assertThat(status.stale()).isTrue();
        assertThat(status.addresses())
                .extracting(PoolStatus.AddressStatus::address)
                .containsExactly("10.0.0.1:8080");
    }

    @Test
    void aNameThatNeverResolvedIsThePoolsLastError() throws Exception {
        WarmPool<String, String, String> users = start(
                dns().addressTypes(ResolvedAddressTypes.IPV4_ONLY).build(),
                b -> b.want(2).healthyMin(1));

        assertThat(kind(next())).isEqualTo(DnsResolutionException.Kind.NXDOMAIN);

        PoolStatus status = status(users);
        assertThat(status.lastError())
                .isEqualTo("resolution failed: could not resolve " + HOST + ": NXDOMAIN (the name does not exist)");
        assertThat(status.stale()).isFalse();
        assertThat(connector.count()).isZero();
        // It keeps trying: the name appears and the pool connects.
        server.set(HOST, 10, "10.0.0.9");
        clock.advance(RETRY);
        assertThat(next().addresses()).containsExactly("10.0.0.9:8080");
        assertThat(connector.addresses()).contains("10.0.0.9:8080");
    }

    @Test
    void anAddressThatLeftDnsIsDrainedWhileItsCallsFinish() throws Exception {
        server.set(HOST, 10, "10.0.0.1");
        WarmPool<String, String, String> users = start(
                dns().addressTypes(ResolvedAddressTypes.IPV4_ONLY).build(),
                b -> b.want(1).healthyMin(1));
        next();
        FakeMember first = connector.attempt(0).connect();
        first.pass();
        first.hold = true;
        CompletableFuture<String> inflight = users.call("slow");
        assertThat(first.held).hasSize(1);

        server.set(HOST, 10, "10.0.0.2");
        clock.advance(Duration.ofSeconds(10));
        assertThat(next().addresses()).containsExactly("10.0.0.2:8080");

        // The member on the gone address left rotation but is not closed while its call runs.
        assertThat(connector.addresses()).containsExactly("10.0.0.1:8080", "10.0.0.2:8080");
        assertThat(first.isClosed()).isFalse();
        PoolStatus draining = status(users);
        assertThat(draining.addresses())
                .extracting(PoolStatus.AddressStatus::address)
                .containsExactly("10.0.0.2:8080");
        assertThat(draining.memberList())
                .extracting(PoolStatus.MemberStatus::address, PoolStatus.MemberStatus::state)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("10.0.0.2:8080", "connecting"),
                        org.assertj.core.groups.Tuple.tuple("10.0.0.1:8080", "draining"));
        FakeMember second = connector.attempt(1).connect();
        second.pass();
        assertThat(users.call("next").get(5, TimeUnit.SECONDS)).isEqualTo("10.0.0.2:8080:next");
        assertThat(first.calls).isEqualTo(1);

        first.releaseHeld();
        assertThat(inflight.get(5, TimeUnit.SECONDS)).isEqualTo("10.0.0.1:8080:late");
        assertThat(first.isClosed()).isTrue();
        assertThat(second.isClosed()).isFalse();
        assertThat(status(users).memberList())
                .extracting(PoolStatus.MemberStatus::state)
                .containsExactly("healthy");
    }

    @Test
    void anIpLiteralIsStaticAndNeedsNoDns() throws Exception {
        List<Resolution<InetSocketAddress>> seen = new ArrayList<>();
        try (AutoCloseable ignored = DnsAddressSource.of("127.0.0.1", 9).subscribe(seen::add)) {
            assertThat(seen)
                    .singleElement()
                    .satisfies(r -> assertThat(r.addresses())
                            .containsExactly(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9)));
        }
        seen.clear();
        try (AutoCloseable ignored = DnsAddressSource.of("[::1]", 9).subscribe(seen::add)) {
            assertThat(seen)
                    .singleElement()
                    .satisfies(r -> assertThat(r.addresses().get(0).getAddress().isLoopbackAddress())
                            .isTrue());
        }
        assertThat(DnsAddressSource.of(HOST, 9)).isInstanceOf(DnsAddressSource.class);
        assertThat(server.queries()).isZero();
        assertThatThrownBy(() -> DnsAddressSource.builder("10.0.0.1", 80))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("IP literal");
        assertThatThrownBy(() -> dns().ttlBounds(Duration.ofSeconds(20), Duration.ofSeconds(10)))
                .hasMessage("min TTL (PT20S) must not exceed max TTL (PT10S)");
        assertThatThrownBy(() -> dns().clock(clock)).hasMessage("clock was already set");
    }
}
