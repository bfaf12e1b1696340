package dev.belfry.examples.users;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The users service end to end: a real PostgreSQL (embedded), HikariCP, the HTTP server. */
class UsersServiceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String TOKEN = "test-token";

    private static EmbeddedPostgres postgres;
    private static HikariDataSource pool;
    private static UsersService service;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        pool = Main.pool(null, postgres);
        service = UsersService.builder(pool).writeToken(TOKEN).start();
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (service != null) {
            service.close();
        }
        if (pool != null) {
            pool.close();
        }
        if (postgres != null) {
            postgres.close();
        }
        if (client != null) {
            client.close();
        }
    }

    private static HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body));
        if (body != null) {
            request.header("content-type", "application/json");
        }
        if (!method.equals("GET")) {
            request.header("authorization", "Bearer " + TOKEN);
        }
        return client.send(request.build(), BodyHandlers.ofString());
    }

    private static HttpRequest.Builder request(UsersService target, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target.port() + path))
                .timeout(Duration.ofSeconds(10));
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return client.send(request.build(), BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    @Test
    void createReadListAndDeleteAUser() throws Exception {
        HttpResponse<String> created =
                send("POST", "/api/v1/users", "{\"name\":\"Ada\",\"email\":\"ada@example.com\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        long id = json(created).get("id").asLong();
        assertThat(created.headers().firstValue("location")).hasValue("/api/v1/users/" + id);

        HttpResponse<String> read = send("GET", "/api/v1/users/" + id, null);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(json(read).get("name").asText()).isEqualTo("Ada");
        assertThat(json(read).get("email").asText()).isEqualTo("ada@example.com");

        HttpResponse<String> list = send("GET", "/api/v1/users?after=" + (id - 1) + "&limit=1", null);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(json(list).get(0).get("id").asLong()).isEqualTo(id);

        HttpResponse<String> again =
                send("POST", "/api/v1/users", "{\"name\":\"Ada 2\",\"email\":\"ada@example.com\"}");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(json(again).get("error").asText()).isEqualTo("a user with email ada@example.com exists already");

        assertThat(send("DELETE", "/api/v1/users/" + id, null).statusCode()).isEqualTo(204);
        HttpResponse<String> gone = send("GET", "/api/v1/users/" + id, null);
        assertThat(gone.statusCode()).as("the cached read was forgotten").isEqualTo(404);
        assertThat(json(gone).get("error").asText()).isEqualTo("no user " + id);
        assertThat(send("DELETE", "/api/v1/users/" + id, null).statusCode()).isEqualTo(404);
    }

    @Test
    void badInputGetsA400ThatSaysWhatIsWrong() throws Exception {
        HttpResponse<String> malformed = send("POST", "/api/v1/users", "{\"name\":Ada}");
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.body()).contains("malformed JSON body");

        HttpResponse<String> noEmail = send("POST", "/api/v1/users", "{\"name\":\"Bob\"}");
        assertThat(noEmail.statusCode()).isEqualTo(400);
        assertThat(json(noEmail).get("error").asText()).isEqualTo("email must look like name@example.com");

        HttpResponse<String> badId = send("GET", "/api/v1/users/abc", null);
        assertThat(badId.statusCode()).isEqualTo(400);
        assertThat(json(badId).get("error").asText()).startsWith("id must be a whole number");

        assertThat(send("GET", "/api/v1/users?limit=0", null).statusCode()).isEqualTo(400);
    }

    @Test
    void manyConcurrentReadersOfOneIdMakeOneQuery() throws Exception {
        HttpResponse<String> created = send("POST", "/api/v1/users", "{\"name\":\"Cy\",\"email\":\"cy@example.com\"}");
        long id = json(created).get("id").asLong();
        long before = service.api().queries();
        HttpClient http11 =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        // HTTP/1.1, one connection per reader: the JDK client's h2c fails streams past the server's
        // limit of 100 at once instead of queueing them.
        List<CompletableFuture<HttpResponse<String>>> readers = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            readers.add(http11.sendAsync(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + "/api/v1/users/" + id))
                            .timeout(Duration.ofSeconds(20))
                            .build(),
                    BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> reader : readers) {
            assertThat(reader.get().statusCode()).isEqualTo(200);
        }
        http11.close();
        assertThat(service.api().queries() - before)
                .as("200 readers, one query (the create's invalidation left nothing cached)")
                .isEqualTo(1);
    }

    @Test
    void healthShowsTheDatabase() throws Exception {
        await().atMost(Duration.ofSeconds(10))
                .until(() -> send("GET", "/ready", null).statusCode() == 200);
        JsonNode health = json(send("GET", "/health", null));
        assertThat(health.get("status").asText()).isEqualTo("healthy");
        assertThat(health.get("version").asText()).isEqualTo(UsersService.VERSION);
        assertThat(health.get("dependencies").get(0).get("name").asText()).isEqualTo("database");
        assertThat(send("GET", "/live", null).statusCode()).isEqualTo(200);
    }

    @Test
    void withTheDatabaseGoneReadsFailFastAndReadyTurns503() throws Exception {
        try (EmbeddedPostgres doomed = EmbeddedPostgres.builder().start();
                HikariDataSource doomedPool = Main.pool(null, doomed);
                UsersService degraded =
                        UsersService.builder(doomedPool).writeToken(TOKEN).start()) {
            URI users = URI.create("http://127.0.0.1:" + degraded.port() + "/api/v1/users");
            URI ready = URI.create("http://127.0.0.1:" + degraded.port() + "/ready");
            assertThat(client.send(HttpRequest.newBuilder(users).build(), BodyHandlers.ofString())
                            .statusCode())
                    .isEqualTo(200);

            doomed.close(); // the database stops

            await().atMost(Duration.ofSeconds(15))
                    .until(() -> client.send(HttpRequest.newBuilder(ready).build(), BodyHandlers.ofString())
                                    .statusCode()
                            == 503);
            long start = System.nanoTime();
            HttpResponse<String> failed = client.send(
                    HttpRequest.newBuilder(users)
                            .timeout(Duration.ofSeconds(20))
                            .build(),
                    BodyHandlers.ofString());
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(failed.statusCode()).as(failed.body()).isEqualTo(503);
            assertThat(took)
                    .as("three attempts of at most the pool's 1 s connection wait, or an open circuit at once")
                    .isLessThan(Duration.ofSeconds(8));
        }
    }

    @Test
    void writesNeedTheBearerTokenAndReadsDoNot() throws Exception {
        String ada = "{\"name\":\"Eve\",\"email\":\"eve@example.com\"}";
        HttpResponse<String> anonymous = send(request(service, "/api/v1/users")
                .header("content-type", "application/json")
                .POST(BodyPublishers.ofString(ada)));
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("www-authenticate")).hasValue("Bearer");
        HttpResponse<String> wrong = send(request(service, "/api/v1/users")
                .header("authorization", "Bearer not-the-token")
                .POST(BodyPublishers.ofString(ada)));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(send(request(service, "/api/v1/users/1").DELETE()).statusCode())
                .isEqualTo(401);
        assertThat(send(request(service, "/api/v1/users?limit=1")).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/api/v1/users?after=0&limit=1000", null).body()).doesNotContain("eve@example.com");
    }

    @Test
    void metricsCountRequestsByRouteTemplate() throws Exception {
        assertThat(send("GET", "/api/v1/users/424242", null).statusCode()).isEqualTo(404);
        HttpResponse<String> metrics = send(request(service, "/metrics"));
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("content-type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
        assertThat(metrics.body())
                .containsPattern("http_server_request_duration_seconds_count\\{method=\"GET\","
                        + "route=\"/api/v1/users/\\{id}\",status_class=\"4xx\"} [1-9]");
    }

    @Test
    void largeResponsesAreCompressedForClientsThatAsk() throws Exception {
        for (int i = 0; i < 40; i++) {
            assertThat(send(
                                    "POST",
                                    "/api/v1/users",
                                    "{\"name\":\"Zip " + i + "\",\"email\":\"zip" + i + "@example.com\"}")
                            .statusCode())
                    .isEqualTo(201);
        }
        HttpResponse<byte[]> gzipped = client.send(
                request(service, "/api/v1/users?limit=1000")
                        .header("accept-encoding", "gzip")
                        .build(),
                BodyHandlers.ofByteArray());
        assertThat(gzipped.statusCode()).isEqualTo(200);
        assertThat(gzipped.headers().firstValue("content-encoding")).hasValue("gzip");
        try (var inflated = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gzipped.body()))) {
            JsonNode users = JSON.readTree(inflated);
            assertThat(users.size()).isGreaterThanOrEqualTo(40);
            assertThat(gzipped.body().length).isLessThan(users.toString().length() / 2);
        }
        HttpResponse<String> plain = send(request(service, "/api/v1/users?limit=1000"));
        assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
    }

    @Test
    void aBodyOverTheLimitIsAnswered413() throws Exception {
        String big = "{\"name\":\"" + "x".repeat(UsersApi.MAX_BODY) + "\",\"email\":\"big@example.com\"}";
        HttpResponse<String> refused = send("POST", "/api/v1/users", big);
        assertThat(refused.statusCode()).isEqualTo(413);
        assertThat(refused.body()).contains("limit of " + UsersApi.MAX_BODY + " bytes");
    }

    @Test
    void eachClientIsRateLimitedOnItsOwnAddressWhateverItsHeadersSayAndHealthIsNot() throws Exception {
        try (UsersService limited = UsersService.builder(pool)
                .writeToken(TOKEN)
                .rateLimit(3, Duration.ofMinutes(1))
                .start()) {
            for (int i = 0; i < 3; i++) {
                assertThat(send(request(limited, "/api/v1/users?limit=1")).statusCode())
                        .isEqualTo(200);
            }
            // A forwarding header a client sets itself does not give it a new bucket.
            HttpResponse<String> refused =
                    send(request(limited, "/api/v1/users?limit=1").header("x-forwarded-for", "10.0.0.2"));
            assertThat(refused.statusCode()).isEqualTo(429);
            assertThat(refused.headers().firstValue("retry-after")).hasValue("20");
            // Another peer address has a bucket of its own.
            InetAddress other = InetAddress.getByAddress(new byte[] {127, 0, 0, 2});
            assertThat(statusFrom(other, limited, "/api/v1/users?limit=1")).isEqualTo(200);
            for (int i = 0; i < 5; i++) {
                assertThat(send(request(limited, "/live")).statusCode()).isEqualTo(200);
            }
        }
    }

    /** The status of a GET of {@code path} sent from a socket bound to {@code source}. */
    private static int statusFrom(InetAddress source, UsersService target, String path) throws Exception {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.bind(new java.net.InetSocketAddress(source, 0));
            socket.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), target.port()), 5_000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream()
                    .write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String answer =
                    new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            return Integer.parseInt(answer.substring("HTTP/1.1 ".length(), "HTTP/1.1 ".length() + 3));
        }
    }

    @Test
    void everyResponseCarriesARequestId() throws Exception {
        HttpResponse<String> response = send(request(service, "/live"));
        assertThat(response.headers().firstValue("x-request-id"))
                .hasValueSatisfying(id -> assertThat(id).hasSize(36));
        HttpResponse<String> echoed = send(request(service, "/live").header("x-request-id", "abc-123"));
        assertThat(echoed.headers().firstValue("x-request-id")).hasValue("abc-123");
    }
}
