package dev.belfry.proxy.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.config.ConfigLoader;
import dev.belfry.proxy.l4.L4Proxy;
import dev.belfry.proxy.l4.ListenerStats;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Clients that misbehave: silent, garbage PROXY headers, too many connections. */
@Timeout(value = 60, unit = SECONDS)
class HostileClientTest {
    // As proxy_protocol_timeout in the listener's config below.
    private static final Duration HEADER_TIMEOUT = Duration.ofMillis(300);

    @TempDir
    Path dir;

    private final Transport transport = Transport.selectForRelay();
    private final EventLoopGroup group = transport.newEventLoopGroup(1, "hostile-test");
    private final List<Socket> sockets = new ArrayList<>();
    private @Nullable LineBackend backend;
    private @Nullable L4Proxy engine;
    private @Nullable InProcessProxy proxy;

    @AfterEach
    void stopEverything() throws Exception {
        for (Socket socket : sockets) {
            socket.close();
        }
        if (engine != null) {
            engine.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
        assertThat(group.shutdownGracefully(0, 1, SECONDS).await(10, SECONDS)).isTrue();
    }

    @Test
    void aClientThatNeverSendsItsV1HeaderIsClosedAfterTheHeaderTimeout() throws Exception {
        backend = LineBackend.start("b1");
        InetSocketAddress web = startEngine();

        long start = System.nanoTime();
        try (Socket silent = open(web)) {
            assertThat(Clients.closedByPeer(silent)).isTrue();
        }
        Duration waited = Duration.ofNanos(System.nanoTime() - start);
        assertThat(waited).isBetween(HEADER_TIMEOUT.minusMillis(50), Duration.ofSeconds(3));
        ListenerStats stats = engine.listenerStats().get("web");
        await().atMost(5, SECONDS).until(() -> stats.proxyHeaderFailures() == 1);
        assertThat(backend.accepted()).isZero();
    }

    @Test
    void twoHundredGarbageHeadersAreAllClosedAndAGoodClientIsServedAfterwards() throws Exception {
        backend = LineBackend.start("b1");
        InetSocketAddress web = startEngine();
        List<byte[]> garbage = garbage(200);

        List<Socket> hostile = new ArrayList<>();
        for (byte[] bytes : garbage) {
            Socket socket = open(web);
            hostile.add(socket);
            try {
                socket.getOutputStream().write(bytes);
                socket.getOutputStream().flush();
            } catch (SocketException e) {
                // Already closed by the proxy after an earlier part: that is the point.
            }
        }
        for (Socket socket : hostile) {
            assertThat(Clients.closedByPeer(socket)).isTrue();
            socket.close();
        }
        ListenerStats stats = engine.listenerStats().get("web");
        await().atMost(5, SECONDS).until(() -> stats.proxyHeaderFailures() == 200);
        await().atMost(5, SECONDS).until(() -> engine.connectionsActive() == 0);
        assertThat(backend.accepted())
                .as("no backend contacted for a bad header")
                .isZero();

        try (Socket good = open(web)) {
            good.getOutputStream()
                    .write("PROXY TCP4 192.0.2.1 198.51.100.2 40000 443\r\nhello\n"
                            .getBytes(StandardCharsets.US_ASCII));
            good.getOutputStream().flush();
            assertThat(LineBackend.readLine(good.getInputStream())).isEqualTo("b1:hello");
        }
        assertThat(stats.proxyHeaderFailures()).isEqualTo(200);
    }

    @Test
    void connectionsAboveMaxConnectionsAreClosedAtOnceAndCountedAsRejected() throws Exception {
        backend = LineBackend.start("b1");
        proxy = InProcessProxy.start(dir.resolve("belfry.toml"), """
                io_threads = 1
                [admin]
                listen = "127.0.0.1:0"
                [[listeners]]
                name = "web"
                listen = "127.0.0.1:0"
                cluster = "app"
                max_connections = 5
                [[clusters]]
                name = "app"
                [[clusters.backends]]
                address = "%s"
                """.formatted(backend.hostPort()));
        InetSocketAddress web = proxy.listener("web");

        List<Socket> idle = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            idle.add(open(web));
        }
        // Closed at once, while every client is still idle.
        await().atMost(5, SECONDS)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> proxy.admin()
                        .get("/metrics")
                        .body()
                        .contains("belfry_listener_connections_rejected_total{listener=\"web\"} 10.0"));
        int served = 0;
        int closed = 0;
        for (int i = 0; i < idle.size(); i++) {
            Socket socket = idle.get(i);
            String answer;
            try {
                answer = Clients.ask(socket, "q" + i);
            } catch (SocketException e) {
                answer = "(reset)";
            }
            if (answer.equals("b1:q" + i)) {
                served++;
            } else {
                assertThat(answer).isIn("(end of stream)", "(reset)");
                closed++;
            }
        }
        assertThat(served).isEqualTo(5);
        assertThat(closed).isEqualTo(10);
        assertThat(backend.accepted()).isEqualTo(5);
        String metrics = proxy.admin().get("/metrics").body();
        assertThat(metrics)
                .contains("belfry_listener_connections_active{listener=\"web\"} 5.0")
                .contains("belfry_listener_connections_total{listener=\"web\"} 5.0");
        assertThat(proxy.admin().get("/health").body()).contains("\"rejected_connections\":10");
    }

    private InetSocketAddress startEngine() throws Exception {
        engine = L4Proxy.builder(ConfigLoader.parse("""
                        [[listeners]]
                        name = "web"
                        listen = "127.0.0.1:0"
                        cluster = "app"
                        accept_proxy_protocol = "v1"
                        proxy_protocol_timeout = "300ms"
                        [[clusters]]
                        name = "app"
                        [[clusters.backends]]
                        address = "%s"
                        """.formatted(backend.hostPort()), "hostile.toml"))
                .eventLoopGroup(group, transport)
                .build();
        engine.start();
        return engine.address("web");
    }

    private Socket open(InetSocketAddress address) throws IOException {
        Socket socket = Clients.open(address);
        sockets.add(socket);
        return socket;
    }

    /** Malformed or incomplete PROXY v1 headers, and things that are no header at all. */
    private static List<byte[]> garbage(int n) {
        Random random = new Random(42);
        List<String> kinds = List.of(
                "PROXY TCP4 1.2.3 4.5.6.7 1 2\r\n",
                "PROXY TCP9 1.2.3.4 5.6.7.8 1 2\r\n",
                "PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n",
                "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
                "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
                "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
                "PROXY\r\n",
                "PROXY " + "A".repeat(300) + "\r\n",
                "GET / HTTP/1.1\r\nHost: example\r\n\r\n",
                "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", // a bare LF ends no v1 header
                "PROX");
        List<byte[]> result = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int kind = i % (kinds.size() + 2);
            if (kind < kinds.size()) {
                result.add(kinds.get(kind).getBytes(StandardCharsets.US_ASCII));
            } else if (kind == kinds.size()) {
                byte[] bytes = new byte[1 + random.nextInt(200)];
                random.nextBytes(bytes);
                result.add(bytes);
            } else {
                // A v2 signature claiming a 64 KiB body, for a v1 listener.
                result.add(new byte[] {
                    0x0D,
                    0x0A,
                    0x0D,
                    0x0A,
                    0x00,
                    0x0D,
                    0x0A,
                    0x51,
                    0x55,
                    0x49,
                    0x54,
                    0x0A,
                    0x21,
                    0x11,
                    (byte) 0xFF,
                    (byte) 0xFF
                });
            }
        }
        return result;
    }
}
