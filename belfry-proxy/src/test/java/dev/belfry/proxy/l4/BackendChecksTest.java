package dev.belfry.proxy.l4;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.config.HealthCheckConfig;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The checks a cluster's config describes, against a real HTTP server on loopback (the JDK's). */
@Timeout(value = 30, unit = SECONDS)
class BackendChecksTest {
    private final Transport transport = Transport.NIO;
    private final EventLoopGroup group = transport.newEventLoopGroup(1, "checks-test");
    private final BlockingQueue<String> requests = new LinkedBlockingQueue<>();
    private final HttpServer server;

    BackendChecksTest() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", exchange -> {
            requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " "
                    + exchange.getRequestHeaders().getFirst("Host"));
            exchange.sendResponseHeaders(exchange.getRequestURI().getPath().equals("/healthz") ? 204 : 404, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.stop(0);
        assertThat(group.shutdownGracefully(0, 1, SECONDS).await(5, SECONDS)).isTrue();
    }

    @Test
    void anHttpCheckAsksTheConfiguredPathAndPassesOnTheConfiguredStatus() throws Exception {
        InetSocketAddress backend = server.getAddress();

        BackendChecks.of(http("/healthz", 204), backend, group, transport)
                .check()
                .toCompletableFuture()
                .get(5, SECONDS);

        assertThat(requests.take()).isEqualTo("GET /healthz 127.0.0.1:" + backend.getPort());
    }

    @Test
    void anHttpCheckFailsOnAnotherStatus() {
        assertThatThrownBy(() -> BackendChecks.of(http("/", 204), server.getAddress(), group, transport)
                        .check()
                        .toCompletableFuture()
                        .get(5, SECONDS))
                .cause()
                .hasMessage("health check answered 'HTTP/1.1 404 Not Found', expected 204");
    }

    @Test
    void aTcpCheckPassesOnConnectAndFailsWithAConnectFailureOnceTheServerIsGone() throws Exception {
        InetSocketAddress backend = server.getAddress();
        HealthCheckConfig tcp = new HealthCheckConfig(
                HealthCheckConfig.Kind.TCP, Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3, null, 200);

        BackendChecks.of(tcp, backend, group, transport)
                .check()
                .toCompletableFuture()
                .get(5, SECONDS);
        server.stop(0);

        assertThatThrownBy(() -> BackendChecks.of(tcp, backend, group, transport)
                        .check()
                        .toCompletableFuture()
                        .get(5, SECONDS))
                .cause()
                .isInstanceOf(ConnectFailedException.class);
    }

    private static HealthCheckConfig http(String path, int status) {
        return new HealthCheckConfig(
                HealthCheckConfig.Kind.HTTP, Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3, path, status);
    }
}
