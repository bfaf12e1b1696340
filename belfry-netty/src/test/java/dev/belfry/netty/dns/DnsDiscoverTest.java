package dev.belfry.netty.dns;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.backoff.Backoff;
import dev.belfry.discover.Change;
import dev.belfry.discover.Discover;
import dev.belfry.netty.dns.DnsDiscover.State;
import dev.belfry.netty.dns.DnsDiscover.Status;
import dev.belfry.netty.dns.DnsResolutionException.Kind;
import dev.belfry.test.ManualClock;
import dev.belfry.test.NoNettyLeaks;
import dev.belfry.test.VerifyAfterEach;
import io.netty.channel.EventLoopGroup;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * DNS discovery against a real DNS server on loopback: answers come over UDP from {@link
 * TestDnsServer}, while re-resolution and backoff timers run on a {@link ManualClock}, so every
 * "when" is decided by the test and only the network round trip takes real (bounded) time.
 */
@ExtendWith({VerifyAfterEach.class, NoNettyLeaks.class})
class DnsDiscoverTest {
    private static final String HOST = "api.belfry.test";
    private static final int PORT = 8080;
    private static final String SERVICE = "_http._tcp.belfry.test";

    private final ManualClock clock = new ManualClock();
    private final List<DnsDiscover> discovers = new ArrayList<>();
    private final BlockingQueue<Change<InetSocketAddress, DnsEndpoint>> changes = new LinkedBlockingQueue<>();
    private TestDnsServer server;

    @BeforeEach
    void startServer() throws InterruptedException {
        server = TestDnsServer.start();
    }

    @AfterEach
    void closeEverything() throws InterruptedException {
        for (DnsDiscover discover : discovers) {
            discover.close();
            EventLoopGroup group = discover.ownedGroup();
            if (group != null) {
                assertThat(group.terminationFuture().await(5, SECONDS)).isTrue();
            }
        }
        server.close();
    }

    @Test
    void initialLookupPublishesEveryAddressAsInserts() throws Exception {
        server.set(HOST, 30, "10.0.0.1", "10.0.0.2", "fd00::1");
        DnsDiscover discover = open(builder());

        State state = discover.start().get(5, SECONDS);

        assertThat(state.status()).isEqualTo(Status.OK);
        assertThat(state.endpoints()).isEqualTo(3);
        assertThat(state.ttl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(state.lookups()).isEqualTo(1);
        assertThat(drain()).containsExactly(insert("10.0.0.1"), insert("10.0.0.2"), insert("fd00::1"));
    }

    @Test
    void endpointsKeepTheHostNameAndThePort() throws Exception {
        server.set(HOST, 30, "10.0.0.1");
        DnsDiscover discover = open(builder());
        discover.start().get(5, SECONDS);

        InetSocketAddress address = discover.endpoints().keySet().iterator().next();

        assertThat(address.getHostString()).isEqualTo(HOST);
        assertThat(address.getPort()).isEqualTo(PORT);
        assertThat(discover.endpoints().get(address)).isEqualTo(new DnsEndpoint(address, 0, 1));
    }

    @Test
    void aNameWithOnlyIpv4AddressesResolvesWhenBothFamiliesAreAsked() throws Exception {
        // The AAAA query gets an empty NOERROR answer; that must not fail the lookup.
        server.set(HOST, 30, "10.0.0.1");
        DnsDiscover discover = open(builder());

        assertThat(discover.start().get(5, SECONDS).endpoints()).isEqualTo(1);
        assertThat(server.queries()).isEqualTo(2);
    }

    @Test
    void changedRecordsEmitOnlyTheDifferences() throws Exception {
        server.set(HOST, 10, "10.0.0.1", "10.0.0.2");
        DnsDiscover discover = open(builder());
        discover.start().get(5, SECONDS);
        drain();

        server.set(HOST, 10, "10.0.0.2", "10.0.0.3");
        State state = lookupAfter(discover, Duration.ofSeconds(10));

        assertThat(state.status()).isEqualTo(Status.OK);
        assertThat(drain()).containsExactly(new Change.Remove<>(address("10.0.0.1")), insert("10.0.0.3"));
        assertThat(discover.endpoints()).containsOnlyKeys(address("10.0.0.2"), address("10.0.0.3"));
    }

    @Test
    void anUnchangedAnswerEmitsNothing() throws Exception {
        server.set(HOST, 10, "10.0.0.1", "10.0.0.2");
        DnsDiscover discover = open(builder());
        discover.start().get(5, SECONDS);
        drain();

        State state = lookupAfter(discover, Duration.ofSeconds(10));

        assertThat(state.lookups()).isEqualTo(2);
        assertThat(drain()).isEmpty();
    }

    @Test
    void reResolvesExactlyWhenTheTtlExpires() throws Exception {
        server.set(HOST, 30, "10.0.0.1");
        DnsDiscover discover = open(builder());
        State first = discover.start().get(5, SECONDS);
        assertThat(first.nextLookupIn()).isEqualTo(Duration.ofSeconds(30));
        int queries = server.queries();

        clock.advance(Duration.ofSeconds(30).minusNanos(1));
        assertThat(discover.state().lookups()).isEqualTo(1);
        assertThat(clock.nextDelay()).isEqualTo(Duration.ofNanos(1));

        State second = lookupAfter(discover, Duration.ofNanos(1));
        assertThat(second.lookups()).isEqualTo(2);
        assertThat(server.queries()).isEqualTo(queries + 2);
    }

    @Test
    void followsANewTtlFromTheNextAnswer() throws Exception {
        server.set(HOST, 30, "10.0.0.1");
        DnsDiscover discover = open(builder());
        discover.start().get(5, SECONDS);

        server.set(HOST, 7, "10.0.0.1");
        State state = lookupAfter(discover, Duration.ofSeconds(30));

        assertThat(state.ttl()).isEqualTo(Duration.ofSeconds(7));
        assertThat(clock.nextDelay()).isEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void theSmallestTtlInTheAnswerWinsAcrossBothFamilies() throws Exception {
        server.set(HOST, 0, "10.0.0.1@30", "10.0.0.2@12", "fd00::1@20");
        DnsDiscover discover = open(builder());

        assertThat(discover.start().get(5, SECONDS).ttl()).isEqualTo(Duration.ofSeconds(12));

        server.set(HOST, 0, "10.0.0.1@30", "10.0.0.2@40", "fd00::1@9");
        assertThat(lookupAfter(discover, Duration.ofSeconds(12)).ttl()).isEqualTo(Duration.ofSeconds(9));
    }

    @Test
    void ttlIsClampedToTheMinimumAndMaximum() throws Exception {
        server.set(HOST, 0, "10.0.0.1");
        DnsDiscover discover = open(builder().minTtl(Duration.ofSeconds(2)).maxTtl(Duration.ofSeconds(60)));
        State zero = discover.start().get(5, SECONDS);
        assertThat(zero.ttl()).isEqualTo(Duration.ofSeconds(2));
        assertThat(clock.nextDelay()).isEqualTo(Duration.ofSeconds(2));

        server.set(HOST, 86_400, "10.0.0.1");
        State day = lookupAfter(discover, Duration.ofSeconds(2));
        assertThat(day.ttl()).isEqualTo(Duration.ofSeconds(60));
        assertThat(clock.nextDelay()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void nxdomainKeepsTheLastGoodEndpointsDuringTheHoldAndReportsTheError() throws Exception {
        server.set(HOST, 10, "10.0.0.1", "10.0.0.2");
        DnsDiscover discover =
                open(builder().hold(Duration.ofSeconds(60)).backoff(Backoff.constant(Duration.ofSeconds(5))));
        discover.start().get(5, SECONDS);
        drain();

        server.mode(TestDnsServer.Mode.NXDOMAIN);
        State state = lookupAfter(discover, Duration.ofSeconds(10));

        assertThat(state.status()).isEqualTo(Status.HOLDING);
        assertThat(state.endpoints()).isEqualTo(2);
        assertThat(state.consecutiveFailures()).isEqualTo(1);
        assertThat(state.lastError()).isNotNull();
        assertThat(state.lastError().kind()).isEqualTo(Kind.NXDOMAIN);
        assertThat(state.lastError()).hasMessageContaining(HOST).hasMessageContaining("NXDOMAIN");
        assertThat(state.sinceLastSuccess()).isEqualTo(Duration.ofSeconds(10));
        assertThat(drain()).isEmpty();
    }

    @Test
    void nxdomainBeyondTheHoldRemovesEveryEndpoint() throws Exception {
        server.set(HOST, 10, "10.0.0.1", "10.0.0.2");
        DnsDiscover discover =
                open(builder().hold(Duration.ofSeconds(20)).backoff(Backoff.constant(Duration.ofSeconds(10))));
        discover.start().get(5, SECONDS);
        drain();

        server.mode(TestDnsServer.Mode.NXDOMAIN);
        assertThat(lookupAfter(discover, Duration.ofSeconds(10)).status()).isEqualTo(Status.HOLDING);
        // 10 s into the failure run: still inside the 20 s hold.
        assertThat(lookupAfter(discover, Duration.ofSeconds(10)).status()).isEqualTo(Status.HOLDING);
        assertThat(drain()).isEmpty();

        // 20 s into the failure run: the hold is over.
        State dropped = lookupAfter(discover, Duration.ofSeconds(10));
        assertThat(dropped.status()).isEqualTo(Status.FAILED);
        assertThat(dropped.endpoints()).isZero();
        assertThat(dropped.consecutiveFailures()).isEqualTo(3);
        assertThat(drain())
                .containsExactly(new Change.Remove<>(address("10.0.0.1")), new Change.Remove<>(address("10.0.0.2")));
    }

    @Test
    void servfailBeyondTheHoldKeepsServingTheLastAnswerAsStale() throws Exception {
        server.set(HOST, 10, "10.0.0.1");
        DnsDiscover discover =
                open(builder().hold(Duration.ofSeconds(15)).backoff(Backoff.constant(Duration.ofSeconds(10))));
        discover.start().get(5, SECONDS);
        drain();

        server.mode(TestDnsServer.Mode.SERVFAIL);
        State holding = lookupAfter(discover, Duration.ofSeconds(10));
        assertThat(holding.status()).isEqualTo(Status.HOLDING);
        assertThat(holding.lastError().kind()).isEqualTo(Kind.SERVFAIL);
        assertThat(lookupAfter(discover, Duration.ofSeconds(10)).status()).isEqualTo(Status.HOLDING);

        State stale = lookupAfter(discover, Duration.ofSeconds(10));
        assertThat(stale.status()).isEqualTo(Status.STALE);
        assertThat(stale.endpoints()).isEqualTo(1);
        assertThat(stale.sinceLastSuccess()).isEqualTo(Duration.ofSeconds(30));
        assertThat(drain()).isEmpty();
    }

    @Test
    void aTimeoutKeepsTheLastGoodEndpoints() throws Exception {
        server.set(HOST, 10, "10.0.0.1");
        DnsDiscover discover = open(builder().backoff(Backoff.constant(Duration.ofSeconds(3))));
        discover.start().get(5, SECONDS);
        drain();

        server.mode(TestDnsServer.Mode.DROP);
        State state = lookupAfter(discover, Duration.ofSeconds(10));

        assertThat(state.status()).isEqualTo(Status.HOLDING);
        assertThat(state.lastError().kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(state.endpoints()).isEqualTo(1);
        assertThat(state.nextLookupIn()).isEqualTo(Duration.ofSeconds(3));
        assertThat(drain()).isEmpty();
    }

    @Test
    void repeatedFailuresBackOffByTheConsecutiveFailureCount() throws Exception {
        server.set(HOST, 10, "10.0.0.1");
        List<Integer> attempts = new ArrayList<>();
        DnsDiscover discover = open(builder().backoff(attempt -> {
            attempts.add(attempt);
            return Duration.ofSeconds(attempt * 4L);
        }));
        discover.start().get(5, SECONDS);

        server.mode(TestDnsServer.Mode.SERVFAIL);
        assertThat(lookupAfter(discover, Duration.ofSeconds(10)).nextLookupIn()).isEqualTo(Duration.ofSeconds(4));
        assertThat(lookupAfter(discover, Duration.ofSeconds(4)).nextLookupIn()).isEqualTo(Duration.ofSeconds(8));

        // No lookup at t-1 of the backoff; one at t.
        int lookups = (int) discover.state().lookups();
        clock.advance(Duration.ofSeconds(8).minusNanos(1));
        assertThat(discover.state().lookups()).isEqualTo(lookups);
        State third = lookupAfter(discover, Duration.ofNanos(1));
        assertThat(third.consecutiveFailures()).isEqualTo(3);
        assertThat(third.nextLookupIn()).isEqualTo(Duration.ofSeconds(12));
        assertThat(attempts).containsExactly(1, 2, 3);
    }

    @Test
    void recoversAfterFailuresAndEmitsTheNewAnswer() throws Exception {
        server.set(HOST, 10, "10.0.0.1");
        DnsDiscover discover = open(builder().backoff(Backoff.constant(Duration.ofSeconds(2))));
        discover.start().get(5, SECONDS);
        drain();
        server.mode(TestDnsServer.Mode.SERVFAIL);
        lookupAfter(discover, Duration.ofSeconds(10));
        lookupAfter(discover, Duration.ofSeconds(2));

        server.set(HOST, 20, "10.0.0.5");
        server.mode(TestDnsServer.Mode.ANSWER);
        State recovered = lookupAfter(discover, Duration.ofSeconds(2));

        assertThat(recovered.status()).isEqualTo(Status.OK);
        assertThat(recovered.consecutiveFailures()).isZero();
        assertThat(recovered.sinceLastSuccess()).isEqualTo(Duration.ZERO);
        assertThat(recovered.ttl()).isEqualTo(Duration.ofSeconds(20));
        assertThat(recovered.nextLookupIn()).isEqualTo(Duration.ofSeconds(20));
        // The last error stays visible for diagnostics after recovery.
        assertThat(recovered.lastError().kind()).isEqualTo(Kind.SERVFAIL);
        assertThat(drain()).containsExactly(new Change.Remove<>(address("10.0.0.1")), insert("10.0.0.5"));
    }

    @Test
    void anUnresolvableNameFailsStartNamingTheHostAndTheError() throws Exception {
        DnsDiscover discover = open(builder().backoff(Backoff.constant(Duration.ofSeconds(5))));

        CompletableFuture<State> start = discover.start();

        assertThatThrownBy(() -> start.get(5, SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(DnsResolutionException.class)
                .hasMessage("could not resolve " + HOST + ": NXDOMAIN (the name does not exist)");
        State state = discover.state();
        assertThat(state.status()).isEqualTo(Status.FAILED);
        assertThat(state.endpoints()).isZero();
        assertThat(state.sinceLastSuccess()).isNull();
        assertThat(state.nextLookupIn()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void discoveryKeepsRetryingAfterAFailedStart() throws Exception {
        DnsDiscover discover = open(builder().backoff(Backoff.constant(Duration.ofSeconds(5))));
        CompletableFuture<State> start = discover.start();
        assertThatThrownBy(() -> start.get(5, SECONDS)).isInstanceOf(ExecutionException.class);

        server.set(HOST, 10, "10.0.0.1");
        State state = lookupAfter(discover, Duration.ofSeconds(5));

        assertThat(state.status()).isEqualTo(Status.OK);
        assertThat(drain()).containsExactly(insert("10.0.0.1"));
        assertThat(discover.start()).isCompletedExceptionally();
    }

    @Test
    void aNameWithNoAddressRecordsFailsStartWithNoRecords() throws Exception {
        server.set(HOST, 10);
        DnsDiscover discover = open(builder().backoff(Backoff.constant(Duration.ofSeconds(5))));

        assertThatThrownBy(() -> discover.start().get(5, SECONDS))
                .cause()
                .isInstanceOfSatisfying(
                        DnsResolutionException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NO_RECORDS));
    }

    @Test
    void aTimeoutAtStartFailsStartWithTimeout() throws Exception {
        server.mode(TestDnsServer.Mode.DROP);
        DnsDiscover discover = open(builder().backoff(Backoff.constant(Duration.ofSeconds(5))));

        assertThatThrownBy(() -> discover.start().get(5, SECONDS))
                .cause()
                .isInstanceOfSatisfying(DnsResolutionException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
                    assertThat(e.host()).isEqualTo(HOST);
                });
    }

    @Test
    void startIsIdempotent() throws Exception {
        server.set(HOST, 10, "10.0.0.1");
        DnsDiscover discover = open(builder());

        State first = discover.start().get(5, SECONDS);
        State again = discover.start().get(5, SECONDS);

        assertThat(again).isEqualTo(first);
        assertThat(server.queries()).isEqualTo(2);
        assertThat(clock.pendingTasks()).isEqualTo(1);
    }

    @Test
    void nothingIsResolvedBeforeStart() {
        server.set(HOST, 10, "10.0.0.1");
        DnsDiscover discover = open(builder());

        assertThat(discover.state().status()).isEqualTo(Status.STARTING);
        assertThat(discover.state().nextLookupIn()).isNull();
        assertThat(server.queries()).isZero();
        assertThat(changes).isEmpty();
    }

    @Test
    void aLateSubscriberGetsTheCurrentSetAsInserts() throws Exception {
        server.set(HOST, 10, "10.0.0.1", "10.0.0.2");
        DnsDiscover discover = open(builder());
        discover.start().get(5, SECONDS);

        List<Change<InetSocketAddress, DnsEndpoint>> late = new ArrayList<>();
        try (Discover.Subscription subscription = discover.subscribe(late::add)) {
            assertThat(late).containsExactly(insert("10.0.0.1"), insert("10.0.0.2"));
        }
    }

    @Test
    void closeStopsTimersAndShutsDownItsOwnEventLoop() throws Exception {
        server.set(HOST, 10, "10.0.0.1");
        DnsDiscover discover = open(builder());
        discover.start().get(5, SECONDS);
        assertThat(clock.pendingTasks()).isEqualTo(1);

        discover.close();
        discover.close();

        assertThat(clock.pendingTasks()).isZero();
        assertThat(discover.state().status()).isEqualTo(Status.CLOSED);
        assertThat(discover.ownedGroup().terminationFuture().await(5, SECONDS)).isTrue();
        int queries = server.queries();
        clock.advance(Duration.ofMinutes(10));
        assertThat(server.queries()).isEqualTo(queries);
        // The last set stays as it was; subscribers get no removes from close.
        assertThat(discover.endpoints()).hasSize(1);
    }

    @Test
    void closeDuringALookupAbandonsItWithoutSchedulingAnother() throws Exception {
        server.mode(TestDnsServer.Mode.DROP);
        DnsDiscover discover = open(builder());
        CompletableFuture<State> start = discover.start();

        discover.close();

        assertThatThrownBy(() -> start.get(5, SECONDS)).isInstanceOf(CancellationException.class);
        assertThat(discover.ownedGroup().terminationFuture().await(5, SECONDS)).isTrue();
        assertThat(clock.pendingTasks()).isZero();
        assertThat(discover.state().status()).isEqualTo(Status.CLOSED);
    }

    @Test
    void ipv4OnlyAsksOnlyForARecords() throws Exception {
        server.set(HOST, 10, "10.0.0.1", "fd00::1");
        DnsDiscover discover = open(DnsDiscover.builder(HOST, PORT)
                .clock(clock)
                .nameServers(List.of(server.address()))
                .queryTimeout(Duration.ofMillis(300))
                .addressTypes(ResolvedAddressTypes.IPV4_ONLY)
                .configureResolver(netty -> netty.searchDomains(List.of())));

        assertThat(discover.start().get(5, SECONDS).endpoints()).isEqualTo(1);
        assertThat(discover.endpoints()).containsOnlyKeys(address("10.0.0.1"));
        assertThat(server.queries()).isEqualTo(1);
    }

    @Test
    void srvRecordsPublishEachTargetsAddressesWithTheRecordsPortPriorityAndWeight() throws Exception {
        server.setSrv(SERVICE, 60, "10 5 8443 a.belfry.test", "20 0 9000 b.belfry.test");
        server.set("a.belfry.test", 30, "10.0.0.1", "10.0.0.2");
        server.set("b.belfry.test", 45, "10.0.0.3");
        DnsDiscover discover = open(configure(DnsDiscover.srvBuilder(SERVICE)));

        State state = discover.start().get(5, SECONDS);

        assertThat(state.status()).isEqualTo(Status.OK);
        assertThat(state.port()).isZero();
        assertThat(state.ttl()).isEqualTo(Duration.ofSeconds(30));
        InetSocketAddress a1 = address("10.0.0.1", 8443);
        InetSocketAddress a2 = address("10.0.0.2", 8443);
        InetSocketAddress b = address("10.0.0.3", 9000);
        assertThat(drain())
                .containsExactly(
                        new Change.Insert<>(a1, new DnsEndpoint(a1, 10, 5)),
                        new Change.Insert<>(a2, new DnsEndpoint(a2, 10, 5)),
                        // An SRV weight of 0 is published as 1: balancers need a positive weight.
                        new Change.Insert<>(b, new DnsEndpoint(b, 20, 1)));
        assertThat(discover.endpoints().keySet())
                .extracting(InetSocketAddress::getHostString)
                .containsExactly("a.belfry.test", "a.belfry.test", "b.belfry.test");
    }

    @Test
    void srvChangesEmitOnlyTheDifferences() throws Exception {
        server.setSrv(SERVICE, 10, "10 5 8443 a.belfry.test", "20 1 9000 b.belfry.test");
        server.set("a.belfry.test", 10, "10.0.0.1");
        server.set("b.belfry.test", 10, "10.0.0.3");
        DnsDiscover discover = open(configure(DnsDiscover.srvBuilder(SERVICE)));
        discover.start().get(5, SECONDS);
        drain();

        server.set("b.belfry.test", 10, "10.0.0.4");
        server.setSrv(SERVICE, 10, "10 7 8443 a.belfry.test", "20 1 9000 b.belfry.test");
        lookupAfter(discover, Duration.ofSeconds(10));

        InetSocketAddress a = address("10.0.0.1", 8443);
        assertThat(drain())
                .containsExactly(
                        new Change.Remove<>(address("10.0.0.3", 9000)),
                        new Change.Update<>(a, new DnsEndpoint(a, 10, 7)),
                        new Change.Insert<>(
                                address("10.0.0.4", 9000), new DnsEndpoint(address("10.0.0.4", 9000), 20, 1)));
    }

    @Test
    void anSrvTargetThatDoesNotResolveIsLeftOut() throws Exception {
        server.setSrv(SERVICE, 10, "10 5 8443 a.belfry.test", "10 5 8443 gone.belfry.test");
        server.set("a.belfry.test", 10, "10.0.0.1");
        DnsDiscover discover = open(configure(DnsDiscover.srvBuilder(SERVICE)));

        assertThat(discover.start().get(5, SECONDS).endpoints()).isEqualTo(1);
        assertThat(discover.endpoints()).containsOnlyKeys(address("10.0.0.1", 8443));
    }

    @Test
    void anSrvNameThatDoesNotExistFailsStart() {
        DnsDiscover discover =
                open(configure(DnsDiscover.srvBuilder(SERVICE)).backoff(Backoff.constant(Duration.ofSeconds(5))));

        assertThatThrownBy(() -> discover.start().get(5, SECONDS))
                .cause()
                .isInstanceOf(DnsResolutionException.class)
                .hasMessage("could not resolve " + SERVICE + ": NXDOMAIN (the name does not exist)");
    }

    @Test
    void aTransientSrvFailureKeepsTheLastAnswer() throws Exception {
        server.setSrv(SERVICE, 10, "10 5 8443 a.belfry.test");
        server.set("a.belfry.test", 10, "10.0.0.1");
        DnsDiscover discover =
                open(configure(DnsDiscover.srvBuilder(SERVICE)).backoff(Backoff.constant(Duration.ofSeconds(5))));
        discover.start().get(5, SECONDS);
        drain();

        server.mode(TestDnsServer.Mode.SERVFAIL);
        State state = lookupAfter(discover, Duration.ofSeconds(10));

        assertThat(state.status()).isEqualTo(Status.HOLDING);
        assertThat(state.endpoints()).isEqualTo(1);
        assertThat(drain()).isEmpty();
    }

    @Test
    void badSettingsFailWithMessagesNamingTheSetting() {
        assertThatThrownBy(() -> DnsDiscover.builder(" ", PORT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("host must not be empty, was ' '");
        assertThatThrownBy(() -> DnsDiscover.builder("10.0.0.1", PORT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("host must be a DNS name, was the IP address 10.0.0.1");
        assertThatThrownBy(() -> DnsDiscover.srvBuilder(""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("host must not be empty, was ''");
        assertThatThrownBy(() -> DnsDiscover.builder(HOST, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("port must be between 1 and 65535, was 0");
        assertThatThrownBy(() -> DnsDiscover.builder(HOST, 65_536))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("port must be between 1 and 65535, was 65536");
        assertThatThrownBy(() -> DnsDiscover.builder(HOST, PORT)
                        .minTtl(Duration.ofMinutes(10))
                        .maxTtl(Duration.ofMinutes(1))
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("minTtl (PT10M) must not exceed maxTtl (PT1M)");
        assertThatThrownBy(() -> DnsDiscover.builder(HOST, PORT).minTtl(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("minTtl must be positive, was PT0S");
        assertThatThrownBy(() -> DnsDiscover.builder(HOST, PORT).hold(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("hold must not be negative, was PT-1S");
        assertThatThrownBy(() -> DnsDiscover.builder(HOST, PORT).queryTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("queryTimeout must be positive, was PT0S");
        assertThatThrownBy(() -> DnsDiscover.builder(HOST, PORT).nameServers(List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("nameServers must not be empty");
        assertThatThrownBy(() -> DnsDiscover.builder(HOST, PORT)
                        .nameServers(List.of(InetSocketAddress.createUnresolved("dns.example", 53))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("nameServers must be resolved addresses");
        assertThatThrownBy(() ->
                        DnsDiscover.builder(HOST, PORT).hold(Duration.ZERO).hold(Duration.ofSeconds(1)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("hold was already set to PT0S");
    }

    private DnsDiscover.Builder builder() {
        return configure(DnsDiscover.builder(HOST, PORT));
    }

    private DnsDiscover.Builder configure(DnsDiscover.Builder builder) {
        return builder.clock(clock)
                .nameServers(List.of(server.address()))
                .queryTimeout(Duration.ofMillis(300))
                .addressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
                // No search domains from the machine's resolv.conf: the test server knows one name.
                .configureResolver(netty -> netty.searchDomains(List.of()));
    }

    private DnsDiscover open(DnsDiscover.Builder builder) {
        DnsDiscover discover = builder.build();
        discovers.add(discover);
        discover.subscribe(changes::add);
        return discover;
    }

    /** Advances the clock by {@code delay} and waits (bounded) for the lookup that starts to end. */
    private State lookupAfter(DnsDiscover discover, Duration delay) throws Exception {
        // Asked for before advancing, so the lookup cannot end before the test listens for it. The
        // timer runs on this thread; the answer arrives on the resolver's event loop.
        CompletableFuture<State> next = discover.nextLookup();
        clock.advance(delay);
        return next.get(5, SECONDS);
    }

    private List<Change<InetSocketAddress, DnsEndpoint>> drain() {
        List<Change<InetSocketAddress, DnsEndpoint>> drained = new ArrayList<>();
        changes.drainTo(drained);
        return drained;
    }

    private static InetSocketAddress address(String ip) {
        return address(ip, PORT);
    }

    private static InetSocketAddress address(String ip, int port) {
        return new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(ip), port);
    }

    private static Change<InetSocketAddress, DnsEndpoint> insert(String ip) {
        InetSocketAddress address = address(ip);
        return new Change.Insert<>(address, DnsEndpoint.of(address));
    }
}
