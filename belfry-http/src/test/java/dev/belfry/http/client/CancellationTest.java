package dev.belfry.http.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.server.HttpServer;
import dev.belfry.netty.transport.Transport;
import dev.belfry.test.NoNettyLeaks;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Cancelling a call reaches the server, and event loops the client did not create stay up. */
@ExtendWith(NoNettyLeaks.class)
@Timeout(60)
class CancellationTest {
    private final CompletableFuture<HttpResponse> held = new CompletableFuture<>();
    private final CompletableFuture<Void> reached = new CompletableFuture<>();
    private final CompletableFuture<Boolean> heldCancelled = new CompletableFuture<>();
    private final HttpServer server = HttpServer.builder(request -> {
                if (request.path().equals("/hold")) {
                    reached.complete(null);
                    held.whenComplete((r, f) -> heldCancelled.complete(held.isCancelled()));
                    return held;
                }
                return CompletableFuture.completedFuture(HttpResponse.text("hi"));
            })
            .ioThreads(1)
            .shutdownGrace(Duration.ofSeconds(1))
            .start();

    @AfterEach
    void close() {
        held.complete(HttpResponse.text("late"));
        server.close();
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void cancellingACallBeforeItsHeadCancelsTheServersWork(Protocol protocol) throws Exception {
        try (HttpClient client = HttpClient.builder("127.0.0.1", server.port())
                .protocol(protocol)
                .build()) {
            var call = client.call(HttpRequest.get("/hold"));
            reached.get(10, TimeUnit.SECONDS);
            call.cancel(false);

            // HTTP/1.1 closes the connection, h2c resets the stream: either way the handler is cancelled.
            assertThat(heldCancelled.get(10, TimeUnit.SECONDS)).isTrue();
            try (HttpResponse next = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS)) {
                assertThat(next.body().collectUtf8(16).get(10, TimeUnit.SECONDS))
                        .isEqualTo("hi");
            }
            assertThat(client.connectionsOpened()).isEqualTo(protocol == Protocol.HTTP_1_1 ? 2 : 1);
        }
    }

    @Test
    void closingTheClientLeavesSharedEventLoopsRunning() throws Exception {
        Transport transport = Transport.select();
        EventLoopGroup group = transport.newEventLoopGroup(1, "shared");
        try {
            HttpClient client = HttpClient.builder("127.0.0.1", server.port())
                    .eventLoops(group, transport)
                    .build();
            try (HttpResponse response = client.call(HttpRequest.get("/")).get(10, TimeUnit.SECONDS)) {
                assertThat(response.body().collectUtf8(16).get(10, TimeUnit.SECONDS))
                        .isEqualTo("hi");
            }
            client.close();
            client.close(); // idempotent

            assertThat(group.isShuttingDown()).isFalse();
            assertThat(client.readiness()).isEqualTo(dev.belfry.Readiness.CLOSED);
            assertThat(client.call(HttpRequest.get("/")))
                    .failsWithin(Duration.ofSeconds(1))
                    .withThrowableThat()
                    .havingCause()
                    .isInstanceOf(dev.belfry.ServiceClosedException.class);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
