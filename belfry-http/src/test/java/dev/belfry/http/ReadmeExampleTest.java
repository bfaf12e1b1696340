package dev.belfry.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.builder.ServiceBuilder;
import dev.belfry.http.router.JsonHandler;
import dev.belfry.http.router.Router;
import dev.belfry.http.server.HttpServer;
import dev.belfry.test.NoNettyLeaks;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The README's example, run as written (on a free port instead of 8080). */
@ExtendWith(NoNettyLeaks.class)
@Timeout(30)
class ReadmeExampleTest {
    record NewUser(String name) {}

    record User(long id, String name) {}

    static Router app() {
        return Router.builder()
                .get(
                        "/hello/{name}",
                        request -> CompletableFuture.completedFuture(
                                HttpResponse.text("hello " + Router.param(request, "name"))))
                .post(
                        "/users",
                        JsonHandler.of(
                                NewUser.class,
                                (request, user) -> CompletableFuture.completedFuture(new User(1, user.name()))))
                .get(
                        "/health",
                        request -> CompletableFuture.completedFuture(HttpResponse.json(Map.of("status", "healthy"))))
                .layer(ServiceBuilder.<HttpRequest, HttpResponse>builder()
                        .timeout(Duration.ofSeconds(2)) // 504 when a route takes longer
                        .concurrencyLimit(256) // at most 256 at once; the rest wait
                        .toLayer())
                .build();
    }

    @Test
    void theExampleServesItsRoutes() throws Exception {
        try (HttpServer server = HttpServer.builder(app()).bind("127.0.0.1", 0).start();
                HttpClient client = HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .build()) {
            String base = "http://127.0.0.1:" + server.port();

            assertThat(get(client, base + "/hello/ada")).isEqualTo("200 hello ada");
            assertThat(get(client, base + "/health")).isEqualTo("200 {\"status\":\"healthy\"}");
            assertThat(post(client, base + "/users", "{\"name\":\"ada\"}"))
                    .isEqualTo("200 {\"id\":1,\"name\":\"ada\"}");
            assertThat(post(client, base + "/users", "{\"name\":ada}"))
                    .startsWith("400 bad request: malformed JSON body at line 1, column 9: Unrecognized token 'ada'");
            assertThat(get(client, base + "/nope")).startsWith("404 ");
        }
    }

    private static String get(HttpClient client, String uri) throws Exception {
        var response = client.send(
                java.net.http.HttpRequest.newBuilder(URI.create(uri)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    private static String post(HttpClient client, String uri, String json) throws Exception {
        var response = client.send(
                java.net.http.HttpRequest.newBuilder(URI.create(uri))
                        .header("content-type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(json))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }
}
