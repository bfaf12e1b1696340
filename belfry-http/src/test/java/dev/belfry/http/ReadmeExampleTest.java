package dev.belfry.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.belfry.builder.ServiceBuilder;
import dev.belfry.health.registry.CheckResult;
import dev.belfry.health.registry.Dependency;
import dev.belfry.health.registry.HealthRegistry;
import dev.belfry.http.health.HealthRoutes;
import dev.belfry.http.router.JsonHandler;
import dev.belfry.http.router.Router;
import dev.belfry.http.server.HttpServer;
import dev.belfry.test.NoNettyLeaks;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The README's example, run as written (on a free port instead of 8080). */
@ExtendWith(NoNettyLeaks.class)
@Timeout(30)
class ReadmeExampleTest {
    record NewUser(String name) {}

    record User(long id, String name) {}

    private final Map<Long, User> users = new ConcurrentHashMap<>();

    HealthRegistry health() {
        return HealthRegistry.builder()
                .dependency(Dependency.required(
                        "users",
                        () -> CompletableFuture.completedFuture(
                                CheckResult.healthy("users: " + users.size())))) // a database's ping goes here
                .build(); // checked now, then every 5 s
    }

    Router app(HealthRegistry health) {
        return HealthRoutes.builder(health)
                .version("1.0.0")
                .build()
                .addTo(Router.builder()) // GET /health, /ready, /live
                .get(
                        "/hello/{name}",
                        request -> CompletableFuture.completedFuture(
                                HttpResponse.text("hello " + Router.param(request, "name"))))
                .post("/users", JsonHandler.of(NewUser.class, (request, user) -> {
                    User created = new User(users.size() + 1, user.name());
                    users.put(created.id(), created);
                    return CompletableFuture.completedFuture(created);
                }))
                .layer(ServiceBuilder.<HttpRequest, HttpResponse>builder()
                        .timeout(Duration.ofSeconds(2)) // 504 when a route takes longer
                        .concurrencyLimit(256) // at most 256 at once; the rest wait
                        .toLayer())
                .build();
    }

    @Test
    void theExampleServesItsRoutes() throws Exception {
        HealthRegistry health = health();
        try (health;
                HttpServer server =
                        HttpServer.builder(app(health)).bind("127.0.0.1", 0).start();
                HttpClient client = HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .build()) {
            String base = "http://127.0.0.1:" + server.port();

            assertThat(get(client, base + "/hello/ada")).isEqualTo("200 hello ada");
            assertThat(post(client, base + "/users", "{\"name\":\"ada\"}"))
                    .isEqualTo("200 {\"id\":1,\"name\":\"ada\"}");
            assertThat(post(client, base + "/users", "{\"name\":ada}"))
                    .startsWith("400 bad request: malformed JSON body at line 1, column 9: Unrecognized token 'ada'");
            assertThat(get(client, base + "/nope")).startsWith("404 ");
            // The first check runs on the system clock's timer as the registry is built.
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> get(client, base + "/ready").equals("200 ready\n"));
            assertThat(get(client, base + "/live")).isEqualTo("200 alive\n");
            assertThat(get(client, base + "/health"))
                    .matches("200 \\{\"status\":\"healthy\",\"version\":\"1.0.0\",\"draining\":false,"
                            + "\"dependencies\":\\[\\{\"name\":\"users\",\"status\":\"healthy\",\"required\":true,"
                            + "\"latency_ms\":\\d+,\"message\":\"users: [01]\",\"since\":\"[0-9T:.Z-]+\"}]}");
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
