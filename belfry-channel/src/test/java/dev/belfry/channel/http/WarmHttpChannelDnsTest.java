package dev.belfry.channel.http;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.belfry.backoff.Backoff;
import dev.belfry.channel.NoMemberReadyException;
import dev.belfry.channel.PoolStatus;
import dev.belfry.channel.dns.DnsAddressSource;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.netty.dns.TestDnsServer;
import dev.belfry.test.ManualClock;
import dev.belfry.test.NoNettyLeaks;
import io.netty.resolver.ResolvedAddressTypes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The HTTP channel over {@link DnsAddressSource} against the real DNS server on loopback from
 * {@code belfry-netty}'s tests, with belfry-http servers on two loopback addresses sharing a port.
 * The DNS source runs on a {@link ManualClock}, so the test says when the TTL runs out; the channel
 * and its members run on the system clock.
 */
@ExtendWith(NoNettyLeaks.class)
@Timeout(60)
class WarmHttpChannelDnsTest {
    private static final String HOST = "users.belfry.test";

    private final ManualClock dnsClock = new ManualClock();
    private final List<Backend> backends = new ArrayList<>();
    private TestDnsServer dns;
    private @Nullable WarmHttpChannel channel;

    @BeforeEach
    void startDns() throws InterruptedException {
        dns = TestDnsServer.start();
    }

    @AfterEach
    void closeEverything() throws InterruptedException {
        if (channel != null) {
            channel.close();
        }
        backends.forEach(Backend::close);
        dns.close();
    }

    private WarmHttpChannel start(int port) {
        DnsAddressSource source = DnsAddressSource.builder(HOST, port)
                .clock(dnsClock)
                .nameServers(List.of(dns.address()))
                .queryTimeout(Duration.ofMillis(500))
                .backoff(Backoff.constant(Duration.ofSeconds(2)))
                .addressTypes(ResolvedAddressTypes.IPV4_ONLY)
                .build();
        channel = WarmHttpChannel.builder("users", source)
                .healthChecks(Duration.ofMillis(150), Duration.ofSeconds(2))
                .pool(pool -> pool.backoff(Duration.ofMillis(50), 1.5, 0.5, Duration.ofSeconds(1))
                        .failFastWait(Duration.ofMillis(500)))
                .build();
        return channel;
    }

    private static String who(WarmHttpChannel users) {
        HttpResponse response = users.call(HttpRequest.get("/who")).join();
        assertThat(response.status()).isEqualTo(200);
        return response.body().collectUtf8(1024).join();
    }

    /** Whether three healthy members are up, all on {@code ip} (DNS names the address "host/ip:port"). */
    private static boolean allMembersOn(WarmHttpChannel users, String ip) {
        PoolStatus status = users.status().join();
        return status.healthy() == 3
                && status.memberList().stream().allMatch(m -> m.address().contains("/" + ip + ":"));
    }

    @Test
    void aNewAddressInDnsTakesTheCallsAndTheAddressThatLeftIsDrained() throws Exception {
        Backend one = Backend.start("one", "127.0.0.1", 0);
        backends.add(one);
        int port = one.address().getPort();
        Backend two = Backend.start("two", "127.0.0.2", port);
        backends.add(two);
        dns.set(HOST, 30, "127.0.0.1");

        WarmHttpChannel users = start(port);
        users.whenReady().toCompletableFuture().get(10, SECONDS);
        for (int i = 0; i < 20; i++) {
            assertThat(who(users)).isEqualTo("one");
        }

        // The deployment moves; nothing is looked up again until the TTL runs out.
        dns.set(HOST, 30, "127.0.0.2");
        dnsClock.advance(Duration.ofSeconds(29));
        assertThat(who(users)).isEqualTo("one");
        dnsClock.advance(Duration.ofSeconds(1));

        await().atMost(Duration.ofSeconds(10)).until(() -> allMembersOn(users, "127.0.0.2"));
        int oneBefore = one.calls.get();
        for (int i = 0; i < 20; i++) {
            assertThat(who(users)).isEqualTo("two");
        }
        assertThat(one.calls.get()).isEqualTo(oneBefore);
        PoolStatus status = users.status().join();
        assertThat(status.stale()).isFalse();
        assertThat(status.addresses())
                .filteredOn(a -> a.address().contains("/127.0.0.1:"))
                .allSatisfy(a -> assertThat(a.resolved()).isFalse());
    }

    @Test
    void aNameThatDoesNotResolveFailsCallsFastSayingSo() {
        WarmHttpChannel users = start(8080);

        assertThatThrownBy(() -> users.call(HttpRequest.get("/who")).get(5, SECONDS))
                .hasCauseInstanceOf(NoMemberReadyException.class)
                .cause()
                .hasMessageStartingWith("no member of pool 'users' was ready within 500 ms; last error: ")
                .hasMessageContaining("resolution failed")
                .hasMessageContaining("NXDOMAIN");
    }
}
