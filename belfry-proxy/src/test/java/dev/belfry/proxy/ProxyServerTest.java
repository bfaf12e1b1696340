package dev.belfry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.admin.ReloadResult;
import dev.belfry.proxy.config.Addresses;
import dev.belfry.proxy.config.ConfigLoader;
import dev.belfry.proxy.demo.DemoBackend;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The running proxy end to end on loopback: admin endpoints, reload, drain, the commands. */
class ProxyServerTest {
    @TempDir
    Path dir;

    private final Transport transport = Transport.NIO;
    private EventLoopGroup backendLoops;
    private final List<DemoBackend> backends = new ArrayList<>();
    private final List<ProxyServer> servers = new ArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeEach
    void startBackends() throws InterruptedException {
        backendLoops = transport.newEventLoopGroup(1, "test-backends");
        for (int i = 1; i <= 2; i++) {
            backends.add(DemoBackend.start(
                    "b" + i, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), backendLoops, transport));
        }
    }

    @AfterEach
    void stopEverything() {
        servers.forEach(ProxyServer::close);
        backends.forEach(DemoBackend::close);
        backendLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        http.close();
    }

    private String config(String... extraListeners) {
        StringBuilder toml = new StringBuilder("io_threads = 1\n[admin]\nlisten = \"127.0.0.1:0\"\n");
        toml.append("[[listeners]]\nname = \"web\"\nlisten = \"127.0.0.1:0\"\ncluster = \"app\"\n");
        for (String name : extraListeners) {
            toml.append("[[listeners]]\nname = \"")
                    .append(name)
                    .append("\"\nlisten = \"127.0.0.1:0\"\ncluster = \"app\"\n");
        }
        toml.append("[[clusters]]\nname = \"app\"\nbalancer = \"round-robin\"\nconnect_timeout = \"1s\"\n");
        toml.append("drain_timeout = \"2s\"\n");
        for (DemoBackend backend : backends) {
            toml.append("[[clusters.backends]]\naddress = \"")
                    .append(Addresses.format(backend.address()))
                    .append("\"\n");
        }
        return toml.toString();
    }

    private ProxyServer start(Path file) throws Exception {
        ProxyServer server = ProxyServer.of(file, ConfigLoader.load(file));
        servers.add(server);
        server.start();
        return server;
    }

    private HttpResponse<String> admin(ProxyServer server, String method, String path) throws Exception {
        URI uri = URI.create("http://" + Addresses.format(server.adminAddress()) + path);
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5));
        request = method.equals("POST") ? request.POST(HttpRequest.BodyPublishers.noBody()) : request.GET();
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesTrafficAndReportsItOnTheAdminServer() throws Exception {
        Path file = Files.writeString(dir.resolve("belfry.toml"), config());
        ProxyServer server = start(file);
        InetSocketAddress web = server.address("web");
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            answers.add(DemoCommand.get(web));
        }
        assertThat(answers).allMatch(a -> a.startsWith("200 OK | hello from b"));
        assertThat(answers).anyMatch(a -> a.endsWith("b1")).anyMatch(a -> a.endsWith("b2"));

        assertThat(admin(server, "GET", "/live").statusCode()).isEqualTo(200);
        assertThat(admin(server, "GET", "/ready").statusCode()).isEqualTo(200);
        HttpResponse<String> metrics = admin(server, "GET", "/metrics");
        assertThat(metrics.body())
                .contains("belfry_listener_connections_total{listener=\"web\"} 4.0")
                .contains("belfry_backend_healthy{");
        assertThat(admin(server, "GET", "/health").body()).contains("\"name\":\"app\"");
    }

    @Test
    void aBackendThatRefusesShowsItsLastErrorWithoutHealthChecksOrOutlierDetection() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        String refusing = "127.0.0.1:" + closedPort;
        Path file = Files.writeString(
                dir.resolve("belfry.toml"), config() + "[[clusters.backends]]\naddress = \"" + refusing + "\"\n");
        ProxyServer server = start(file);
        InetSocketAddress web = server.address("web");
        for (int i = 0; i < 6; i++) {
            // Round robin sends two of six to the refusing backend; each is retried on another.
            assertThat(DemoCommand.get(web)).startsWith("200 OK");
        }

        var backendsByAddress = server.clusters().get(0).backends();
        var failing = backendsByAddress.stream()
                .filter(b -> b.address().equals(refusing))
                .findFirst()
                .orElseThrow();
        assertThat(failing.connectFailures()).isEqualTo(2);
        assertThat(failing.lastError()).containsIgnoringCase("refused");
        assertThat(backendsByAddress.stream().filter(b -> !b.address().equals(refusing)))
                .allSatisfy(b -> assertThat(b.lastError()).isNull());
        // Two failures, one entry: the same error again only moves its time.
        assertThat(server.recentErrors()).singleElement().satisfies(error -> {
            assertThat(error.source()).isEqualTo("cluster app, backend " + refusing);
            assertThat(error.message()).startsWith("connect failed: ").containsIgnoringCase("refused");
        });
        assertThat(admin(server, "GET", "/health").body())
                .contains("\"last_error\":\"")
                .contains("recent_errors");
    }

    @Test
    void liveAsksTheIoThreadsAndSaysWhichDidNotAnswer() throws Exception {
        Path file = Files.writeString(dir.resolve("belfry.toml"), config());
        ProxyServer server = start(file);
        assertThat(admin(server, "GET", "/live").statusCode()).isEqualTo(200);

        CountDownLatch release = new CountDownLatch(1);
        EventLoopGroup io = server.ioThreads();
        assertThat(io).isNotNull();
        io.next().execute(() -> {
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            HttpResponse<String> stuck = admin(server, "GET", "/live");
            assertThat(stuck.statusCode()).isEqualTo(503);
            assertThat(stuck.body()).isEqualTo("not live: I/O thread 1 of 1 did not answer within 2000 ms\n");
        } finally {
            release.countDown();
        }
        assertThat(admin(server, "GET", "/live").statusCode()).isEqualTo(200);
    }

    @Test
    void aBadReloadKeepsTheRunningConfigAndSaysWhere() throws Exception {
        Path file = Files.writeString(dir.resolve("belfry.toml"), config());
        ProxyServer server = start(file);
        InetSocketAddress web = server.address("web");

        Files.writeString(file, config().replace("balancer = \"round-robin\"", "balancer = \"fastest\""));
        HttpResponse<String> reload = admin(server, "POST", "/reload");
        assertThat(reload.statusCode()).isEqualTo(400);
        assertThat(reload.body()).contains(file + ":").contains("balancer");
        ReloadResult last = server.lastReload();
        assertThat(last).isNotNull();
        assertThat(last.ok()).isFalse();
        assertThat(DemoCommand.get(web)).startsWith("200 OK");
        assertThat(server.recentErrors()).isNotEmpty();
        assertThat(admin(server, "GET", "/health").body()).contains("\"ok\":false");
    }

    @Test
    void aGoodReloadAddsAListenerAndKeepsTheOldSocket() throws Exception {
        Path file = Files.writeString(dir.resolve("belfry.toml"), config());
        ProxyServer server = start(file);
        InetSocketAddress web = server.address("web");

        // Port 0 in the file would mean "a new free port": pin the bound one so the socket stays.
        Files.writeString(
                file,
                config("extra")
                        .replaceFirst(
                                "listen = \"127.0.0.1:0\"\ncluster",
                                "listen = \"" + Addresses.format(web) + "\"\ncluster"));
        assertThat(server.reload().ok()).isTrue();
        assertThat(server.address("web")).isEqualTo(web);
        assertThat(server.address("extra")).isNotNull();
        assertThat(DemoCommand.get(server.address("extra"))).startsWith("200 OK");
        assertThat(DemoCommand.get(web)).startsWith("200 OK");
    }

    @Test
    void drainingTurnsReadyOffAndStopsAccepting() throws Exception {
        Path file = Files.writeString(dir.resolve("belfry.toml"), config());
        ProxyServer server = start(file);
        InetSocketAddress web = server.address("web");
        assertThat(server.drain()).isTrue();
        assertThat(server.draining()).isTrue();
        HttpResponse<String> ready = admin(server, "GET", "/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("draining");
        // NIO closes a listening socket at the event loop's next select, so allow a moment.
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(DemoCommand.get(web)).startsWith("failed:"));
    }

    @Test
    void runRefusesABadConfigBeforeBindingAnything() throws Exception {
        Path file = Files.writeString(dir.resolve("bad.toml"), "[[listeners]]\nname = 1\n");
        StringWriter err = new StringWriter();
        int status = Main.run(
                new String[] {"run", "--config", file.toString()},
                new PrintWriter(new StringWriter(), true),
                new PrintWriter(err, true));
        assertThat(status).isEqualTo(1);
        assertThat(err.toString()).contains(file + ":2:").contains("belfry: not started");
    }

    @Test
    void runReportsAPortInUseAndExitsNonZero() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String busy = "127.0.0.1:" + taken.getLocalPort();
            Path file = Files.writeString(
                    dir.resolve("busy.toml"),
                    config().replaceFirst("listen = \"127.0.0.1:0\"\ncluster", "listen = \"" + busy + "\"\ncluster"));
            StringWriter err = new StringWriter();
            int status = Main.run(
                    new String[] {"run", "-c", file.toString()},
                    new PrintWriter(new StringWriter(), true),
                    new PrintWriter(err, true));
            assertThat(status).isEqualTo(1);
            assertThat(err.toString())
                    .contains("web")
                    .contains(busy.replace("127.0.0.1", ""))
                    .contains("not started");
        }
    }

    @Test
    void theDemoBalancesItsSelfTestAndDrainsOnItsOwn() throws IOException {
        StringWriter out = new StringWriter();
        int status = Main.run(
                new String[] {"demo", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--duration", "1"},
                new PrintWriter(out, true),
                new PrintWriter(new StringWriter(), true));
        assertThat(status).isZero();
        assertThat(out.toString())
                .contains("hello from backend-1")
                .contains("hello from backend-2")
                .contains("hello from backend-3")
                .contains("demo: drained and stopped");
    }
}
