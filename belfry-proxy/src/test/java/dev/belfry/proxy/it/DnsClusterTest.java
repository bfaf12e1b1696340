package dev.belfry.proxy.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.belfry.netty.dns.TestDnsServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A cluster whose backends come from DNS, through the whole proxy: a real DNS server on loopback
 * (the headless-Service setup of deploy/k8s), backends on 127.0.0.1 and 127.0.0.2 at one port, and
 * the answer changing under traffic.
 */
@Timeout(value = 60, unit = SECONDS)
class DnsClusterTest {
    private static final String NAME = "app.belfry.test";

    @RegisterExtension
    final Fixture fixture = new Fixture();

    @Test
    void backendsFollowTheDnsAnswerAsItsTtlRunsOut() throws Exception {
        TestDnsServer dns = fixture.open(TestDnsServer.start());
        LineBackend one =
                fixture.open(LineBackend.start("one", InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0));
        int port = one.address().getPort();
        fixture.open(LineBackend.start("two", InetAddress.getByAddress(new byte[] {127, 0, 0, 2}), port));
        dns.set(NAME, 1, "127.0.0.1");
        InetSocketAddress server = dns.address();
        InProcessProxy proxy =
                fixture.proxy("""
                io_threads = 1
                [admin]
                listen = "127.0.0.1:0"
                [[listeners]]
                name = "web"
                listen = "127.0.0.1:0"
                cluster = "app"
                [[clusters]]
                name = "app"
                balancer = "round-robin"
                connect_timeout = "1s"
                [clusters.dns]
                name = "%s"
                port = %d
                servers = ["%s:%d"]
                """.formatted(NAME, port, server.getAddress().getHostAddress(), server.getPort()));
        InetSocketAddress web = proxy.listener("web");
        await().atMost(10, SECONDS)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> answered(web, 4).equals(Set.of("one")));

        // A second address: once the 1 s TTL runs out, connections reach both.
        dns.set(NAME, 1, "127.0.0.1", "127.0.0.2");
        await().atMost(10, SECONDS)
                .pollInterval(Duration.ofMillis(100))
                .until(() -> answered(web, 4).equals(Set.of("one", "two")));

        // The first one gone from DNS: no new connection goes to it.
        dns.set(NAME, 1, "127.0.0.2");
        await().atMost(10, SECONDS)
                .pollInterval(Duration.ofMillis(100))
                .until(() -> answered(web, 6).equals(Set.of("two")));
        assertThat(proxy.admin().get("/health").body()).contains("127.0.0.2:" + port);
    }

    /** The backends that answered {@code n} new connections. */
    private static Set<String> answered(InetSocketAddress web, int n) throws Exception {
        Set<String> backends = new HashSet<>();
        for (int i = 0; i < n; i++) {
            String line = "q" + i;
            backends.add(String.valueOf(Clients.backendOf(Clients.exchange(web, line), line)));
        }
        return backends;
    }
}
