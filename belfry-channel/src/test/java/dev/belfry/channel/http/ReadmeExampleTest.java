package dev.belfry.channel.http;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.channel.AddressSource;
import dev.belfry.channel.ChannelRegistry;
import dev.belfry.channel.PoolState;
import dev.belfry.channel.diag.ChannelDiagnostics;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.router.Router;
import dev.belfry.http.server.HttpServer;
import dev.belfry.test.NoNettyLeaks;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The README's "Calling HTTP through a warm channel" example, on servers on loopback. */
@ExtendWith(NoNettyLeaks.class)
@Timeout(30)
class ReadmeExampleTest {

    @Test
    void theReadmeExampleRuns() throws Exception {
        List<HttpServer> servers = new ArrayList<>();
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Router app = Router.builder()
                    .get("/ready", request -> CompletableFuture.completedFuture(HttpResponse.text("ready")))
                    .get("/users/{id}", request -> CompletableFuture.completedFuture(HttpResponse.text("Ada")))
                    .build();
            HttpServer server = HttpServer.builder(app).ioThreads(1).start();
            servers.add(server);
            addresses.add(server.localAddress());
        }
        try {
            // As in the README, from here on.
            ChannelRegistry channels = new ChannelRegistry(); // for /debug/channels and client_channels_*
            try (WarmHttpChannel users = WarmHttpChannel.builder("users", AddressSource.of(addresses))
                    .healthCheck("/ready", 200) // the defaults: GET /ready, expecting 200
                    .pool(pool -> pool.registry(channels))
                    .build()) { // connects and health-checks at once
                users.whenReady().toCompletableFuture().get(10, SECONDS);
                try (HttpResponse response =
                        users.call(HttpRequest.get("/users/7")).get(2, SECONDS)) {
                    String name = response.body().collectUtf8(1 << 20).join();
                    assertThat(name).isEqualTo("Ada");
                }
                assertThat(users.status().join().state()).isEqualTo(PoolState.HEALTHY);
                HttpResponse page = ChannelDiagnostics.of(channels)
                        .call(HttpRequest.get("/debug/channels?format=json"))
                        .join();
                assertThat(page.body().collectUtf8(1 << 20).join()).contains("\"name\":\"users\"");
            }
        } finally {
            servers.forEach(HttpServer::close);
        }
    }
}
