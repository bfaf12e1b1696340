package dev.belfry.bench.http.users;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import dev.belfry.examples.users.Main;
import dev.belfry.examples.users.UsersService;
import dev.belfry.examples.users.grpc.GetUserRequest;
import dev.belfry.examples.users.grpc.User;
import dev.belfry.examples.users.grpc.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Armeria version of the users API answers as the examples' {@code UsersService} does, route by
 * route, so bench/example-compare.sh compares like with like: both run side by side on loopback over
 * one embedded PostgreSQL (users 1 to 20 seeded), each with its own pool, and every request goes to
 * both. Where the API makes the body, status and body must be equal (and equal to what the API
 * promises); where the framework does (401, 413, malformed JSON, unknown route), the status.
 */
class ArmeriaUsersTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "compare-token";

    private static EmbeddedPostgres postgres;
    private static HikariDataSource belfryPool;
    private static HikariDataSource armeriaPool;
    private static UsersService belfry;
    private static ArmeriaUsers armeria;
    private static HttpClient client;
    private static ManagedChannel belfryGrpc;
    private static ManagedChannel armeriaGrpc;

    @BeforeAll
    static void start() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        String url = postgres.getJdbcUrl("postgres", "postgres");
        belfryPool = Main.pool(url);
        armeriaPool = Main.pool(url);
        UsersDatabase.seed(belfryPool, 20);
        belfry = UsersService.builder(belfryPool)
                .writeToken(TOKEN)
                .rateLimit(UsersServer.UNLIMITED, Duration.ofSeconds(1))
                .start();
        armeria = ArmeriaUsers.start(armeriaPool, TOKEN, 0, 0, 1);
        client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        belfryGrpc = NettyChannelBuilder.forAddress("127.0.0.1", belfry.grpcPort())
                .usePlaintext()
                .build();
        armeriaGrpc = NettyChannelBuilder.forAddress("127.0.0.1", armeria.grpcPort())
                .usePlaintext()
                .build();
    }

    @AfterAll
    static void stop() throws Exception {
        for (ManagedChannel channel : new ManagedChannel[] {belfryGrpc, armeriaGrpc}) {
            if (channel != null) {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        if (armeria != null) {
            armeria.close();
        }
        if (belfry != null) {
            belfry.close();
        }
        for (HikariDataSource pool : new HikariDataSource[] {armeriaPool, belfryPool}) {
            if (pool != null) {
                pool.close();
            }
        }
        if (postgres != null) {
            postgres.close();
        }
        if (client != null) {
            client.close();
        }
    }

    /** One request, sent to both servers. */
    private record Both(HttpResponse<String> belfry, HttpResponse<String> armeria) {
        JsonNode belfryJson() throws Exception {
            return JSON.readTree(belfry.body());
        }

        JsonNode armeriaJson() throws Exception {
            return JSON.readTree(armeria.body());
        }

        /** Same status, both {@code expected}; same JSON body; returns it. */
        JsonNode same(int expected) throws Exception {
            assertThat(belfry.statusCode()).as("Belfry: %s", belfry.body()).isEqualTo(expected);
            assertThat(armeria.statusCode()).as("Armeria: %s", armeria.body()).isEqualTo(expected);
            assertThat(armeriaJson()).isEqualTo(belfryJson());
            return belfryJson();
        }

        void sameStatus(int expected) {
            assertThat(belfry.statusCode()).as("Belfry: %s", belfry.body()).isEqualTo(expected);
            assertThat(armeria.statusCode()).as("Armeria: %s", armeria.body()).isEqualTo(expected);
        }
    }

    private static Both send(Function<URI, HttpRequest.Builder> request) throws Exception {
        return new Both(send(request, belfry.port()), send(request, armeria.port()));
    }

    private static HttpResponse<String> send(Function<URI, HttpRequest.Builder> request, int port) throws Exception {
        return client.send(
                request.apply(URI.create("http://127.0.0.1:" + port))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                BodyHandlers.ofString());
    }

    private static Both get(String path) throws Exception {
        return send(base -> HttpRequest.newBuilder(base.resolve(path)));
    }

    private static HttpResponse<String> post(int port, @Nullable String token, String body) throws Exception {
        return send(
                base -> {
                    var request = HttpRequest.newBuilder(base.resolve("/api/v1/users"))
                            .header("content-type", "application/json")
                            .POST(BodyPublishers.ofString(body));
                    return token == null ? request : request.header("authorization", "Bearer " + token);
                },
                port);
    }

    private static Both postBoth(@Nullable String token, String body) throws Exception {
        return new Both(post(belfry.port(), token, body), post(armeria.port(), token, body));
    }

    private static HttpResponse<String> delete(int port, @Nullable String token, long id) throws Exception {
        return send(
                base -> {
                    var request = HttpRequest.newBuilder(base.resolve("/api/v1/users/" + id))
                            .DELETE();
                    return token == null ? request : request.header("authorization", "Bearer " + token);
                },
                port);
    }

    private static String user(long id, String name) {
        return "{\"id\":" + id + ",\"name\":\"" + name + "\",\"email\":\"" + name + "@example.com\"}";
    }

    private static void sql(String statement) throws Exception {
        try (Connection connection = belfryPool.getConnection();
                Statement s = connection.createStatement()) {
            s.execute(statement);
        }
    }

    @Test
    void getByIdAnswersTheSameUser() throws Exception {
        assertThat(get("/api/v1/users/3").same(200)).isEqualTo(JSON.readTree(user(3, "user-3")));
    }

    @Test
    void getOfAMissingOrMalformedIdAnswersTheSameProblem() throws Exception {
        assertThat(get("/api/v1/users/999999").same(404).get("error").asText()).isEqualTo("no user 999999");
        assertThat(get("/api/v1/users/abc").same(400).get("error").asText())
                .isEqualTo("id must be a whole number from 1 to 9223372036854775807");
        assertThat(get("/api/v1/users/0").same(400).get("error").asText())
                .isEqualTo("id must be a whole number from 1 to 9223372036854775807");
    }

    @Test
    void listAnswersTheSamePageAndProblems() throws Exception {
        JsonNode page = get("/api/v1/users?after=2&limit=3").same(200);
        assertThat(page)
                .isEqualTo(JSON.readTree(
                        "[" + user(3, "user-3") + "," + user(4, "user-4") + "," + user(5, "user-5") + "]"));
        assertThat(get("/api/v1/users?limit=0").same(400).get("error").asText())
                .isEqualTo("limit must be a whole number from 1 to 1000");
        assertThat(get("/api/v1/users?after=x").same(400).get("error").asText())
                .isEqualTo("after must be a whole number from 0 to 9223372036854775807");
    }

    @Test
    void postCreatesTheSameWayAndEachServerReadsTheOthersUser() throws Exception {
        HttpResponse<String> byBelfry =
                post(belfry.port(), TOKEN, "{\"name\":\" Ada \",\"email\":\"ada@example.com\"}");
        HttpResponse<String> byArmeria =
                post(armeria.port(), TOKEN, "{\"name\":\"Grace\",\"email\":\"grace@example.com\"}");
        assertThat(byBelfry.statusCode()).as(byBelfry.body()).isEqualTo(201);
        assertThat(byArmeria.statusCode()).as(byArmeria.body()).isEqualTo(201);
        long ada = JSON.readTree(byBelfry.body()).get("id").asLong();
        long grace = JSON.readTree(byArmeria.body()).get("id").asLong();
        assertThat(JSON.readTree(byBelfry.body()))
                .isEqualTo(JSON.readTree(user(ada, "ada").replace("\"ada\"", "\"Ada\"")));
        assertThat(JSON.readTree(byArmeria.body()))
                .isEqualTo(JSON.readTree(user(grace, "grace").replace("\"grace\"", "\"Grace\"")));
        assertThat(byBelfry.headers().firstValue("location")).hasValue("/api/v1/users/" + ada);
        assertThat(byArmeria.headers().firstValue("location")).hasValue("/api/v1/users/" + grace);

        assertThat(get("/api/v1/users/" + ada).same(200).get("name").asText()).isEqualTo("Ada");
        assertThat(get("/api/v1/users/" + grace).same(200).get("name").asText()).isEqualTo("Grace");
        assertThat(postBoth(TOKEN, "{\"name\":\"Ada\",\"email\":\"ada@example.com\"}")
                        .same(409)
                        .get("error")
                        .asText())
                .isEqualTo("a user with email ada@example.com exists already");
    }

    @Test
    void postRefusesTheSameBodiesWithTheSameStatus() throws Exception {
        assertThat(postBoth(TOKEN, "{\"name\":\"  \",\"email\":\"x@example.com\"}")
                        .same(400)
                        .get("error")
                        .asText())
                .isEqualTo("name must be 1 to 200 characters");
        assertThat(postBoth(TOKEN, "{\"name\":\"X\",\"email\":\"example.com@\"}")
                        .same(400)
                        .get("error")
                        .asText())
                .isEqualTo("email must look like name@example.com");
        postBoth(TOKEN, "{\"name\":").sameStatus(400);
        postBoth(TOKEN, "{\"name\":\"" + "x".repeat(17 * 1024) + "\",\"email\":\"big@example.com\"}")
                .sameStatus(413);
    }

    @Test
    void writesNeedTheToken() throws Exception {
        postBoth(null, "{\"name\":\"Eve\",\"email\":\"eve@example.com\"}").sameStatus(401);
        postBoth("wrong", "{\"name\":\"Eve\",\"email\":\"eve@example.com\"}").sameStatus(401);
        new Both(delete(belfry.port(), null, 1), delete(armeria.port(), null, 1)).sameStatus(401);
        get("/api/v1/users/1").same(200); // nothing was deleted
    }

    @Test
    void aCachedReadOutlivesAChangeInTheDatabaseButNotADelete() throws Exception {
        assertThat(get("/api/v1/users/7").same(200).get("name").asText()).isEqualTo("user-7");
        sql("UPDATE users SET name = 'renamed' WHERE id IN (7, 8)");
        // Read by both within the cache's 5 s: the copy both read before.
        assertThat(get("/api/v1/users/7").same(200).get("name").asText()).isEqualTo("user-7");
        // Never read before: the database's.
        assertThat(get("/api/v1/users/8").same(200).get("name").asText()).isEqualTo("renamed");

        // Each server deletes one of two users both have cached; each forgets its own copy.
        get("/api/v1/users/9").same(200);
        get("/api/v1/users/10").same(200);
        assertThat(delete(belfry.port(), TOKEN, 9).statusCode()).isEqualTo(204);
        assertThat(delete(armeria.port(), TOKEN, 10).statusCode()).isEqualTo(204);
        assertThat(send(base -> HttpRequest.newBuilder(base.resolve("/api/v1/users/9")), belfry.port())
                        .statusCode())
                .isEqualTo(404);
        assertThat(send(base -> HttpRequest.newBuilder(base.resolve("/api/v1/users/10")), armeria.port())
                        .statusCode())
                .isEqualTo(404);
        // Deleting what the other deleted: the same 404.
        HttpResponse<String> belfryAgain = delete(belfry.port(), TOKEN, 10);
        HttpResponse<String> armeriaAgain = delete(armeria.port(), TOKEN, 9);
        assertThat(belfryAgain.statusCode()).isEqualTo(404);
        assertThat(armeriaAgain.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(belfryAgain.body())).isEqualTo(JSON.readTree("{\"error\":\"no user 10\"}"));
        assertThat(JSON.readTree(armeriaAgain.body())).isEqualTo(JSON.readTree("{\"error\":\"no user 9\"}"));
    }

    @Test
    void unknownRoutesAreNotFoundOnBoth() throws Exception {
        get("/api/v1/nothing").sameStatus(404);
    }

    @Test
    void grpcGetUserAnswersTheSame() {
        List<UserServiceGrpc.UserServiceBlockingStub> stubs = List.of(
                UserServiceGrpc.newBlockingStub(belfryGrpc).withDeadlineAfter(10, TimeUnit.SECONDS),
                UserServiceGrpc.newBlockingStub(armeriaGrpc).withDeadlineAfter(10, TimeUnit.SECONDS));
        for (var stub : stubs) {
            assertThat(stub.getUser(GetUserRequest.newBuilder().setId(4).build()))
                    .isEqualTo(User.newBuilder()
                            .setId(4)
                            .setName("user-4")
                            .setEmail("user-4@example.com")
                            .build());
            assertThatThrownBy(() -> stub.getUser(
                            GetUserRequest.newBuilder().setId(999_999).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                        assertThat(e.getStatus().getDescription()).isEqualTo("no user 999999");
                    });
            assertThatThrownBy(() ->
                            stub.getUser(GetUserRequest.newBuilder().setId(0).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).isEqualTo("id must be 1 or more, was 0");
                    });
        }
    }
}
