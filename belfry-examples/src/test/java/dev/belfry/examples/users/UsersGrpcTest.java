package dev.belfry.examples.users;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.belfry.examples.users.grpc.GetUserRequest;
import dev.belfry.examples.users.grpc.ListUsersRequest;
import dev.belfry.examples.users.grpc.User;
import dev.belfry.examples.users.grpc.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The gRPC side of the users service, called by a real grpc-java client over loopback. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class UsersGrpcTest {
    private static EmbeddedPostgres postgres;
    private static HikariDataSource pool;
    private static UsersService service;
    private static ManagedChannel channel;
    private static UserServiceGrpc.UserServiceBlockingStub users;

    @BeforeAll
    static void start() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        pool = Main.pool(null, postgres);
        service = UsersService.builder(pool).writeToken("test-token").start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", service.grpcPort())
                .usePlaintext()
                // A small window, so a client that stops reading stops the server soon.
                .flowControlWindow(16 * 1024)
                .build();
        users = UserServiceGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        if (service != null) {
            service.close();
        }
        if (pool != null) {
            pool.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    /** Inserts {@code count} users named {@code prefix-N} and returns the highest id before them. */
    private static long insert(String prefix, int count) throws Exception {
        try (Connection connection = pool.getConnection();
                Statement statement = connection.createStatement()) {
            long before;
            try (ResultSet max = statement.executeQuery("SELECT coalesce(max(id), 0) FROM users")) {
                max.next();
                before = max.getLong(1);
            }
            statement.executeUpdate("INSERT INTO users (name, email) SELECT '" + prefix + "-' || g, '" + prefix
                    + "-' || g || '@example.com' FROM generate_series(1, " + count + ") g");
            return before;
        }
    }

    private static UserServiceGrpc.UserServiceBlockingStub deadline() {
        return users.withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    @Test
    void getUserAnswersFromTheStore() throws Exception {
        long before = insert("get", 1);
        User user =
                deadline().getUser(GetUserRequest.newBuilder().setId(before + 1).build());
        assertThat(user.getId()).isEqualTo(before + 1);
        assertThat(user.getName()).isEqualTo("get-1");
        assertThat(user.getEmail()).isEqualTo("get-1@example.com");
    }

    @Test
    void getUserMapsAMissingUserAndABadIdToTheirCodes() {
        assertThatThrownBy(() -> deadline()
                        .getUser(GetUserRequest.newBuilder().setId(987_654_321).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isEqualTo("no user 987654321");
                });
        assertThatThrownBy(() ->
                        deadline().getUser(GetUserRequest.newBuilder().setId(0).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).isEqualTo("id must be 1 or more, was 0");
                });
        assertThatThrownBy(() -> deadline()
                        .listUsers(ListUsersRequest.newBuilder().setLimit(-1).build())
                        .hasNext())
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void listUsersStreamsEveryUserInIdOrderAcrossPages() throws Exception {
        int count = UsersGrpcService.PAGE * 2 + 50;
        long before = insert("list", count);
        List<Long> ids = new ArrayList<>();
        deadline()
                .listUsers(ListUsersRequest.newBuilder().setAfterId(before).build())
                .forEachRemaining(user -> ids.add(user.getId()));
        assertThat(ids).hasSize(count);
        assertThat(ids.get(0)).isEqualTo(before + 1);
        assertThat(ids.get(count - 1)).isEqualTo(before + count);
        assertThat(ids).isSorted();

        List<User> seven = new ArrayList<>();
        deadline()
                .listUsers(ListUsersRequest.newBuilder()
                        .setAfterId(before)
                        .setLimit(7)
                        .build())
                .forEachRemaining(seven::add);
        assertThat(seven)
                .extracting(User::getName)
                .containsExactly("list-1", "list-2", "list-3", "list-4", "list-5", "list-6", "list-7");
    }

    @Test
    void listUsersStopsQueryingWhileTheClientDoesNotRead() throws Exception {
        int count = 20_000;
        long before = insert("slow", count);
        long queriesBefore = service.api().queries();
        List<User> received = new CopyOnWriteArrayList<>();
        AtomicReference<ClientCallStreamObserver<ListUsersRequest>> requests = new AtomicReference<>();
        CompletableFuture<Void> finished = new CompletableFuture<>();
        UserServiceGrpc.newStub(channel)
                .withDeadlineAfter(60, TimeUnit.SECONDS)
                .listUsers(
                        ListUsersRequest.newBuilder().setAfterId(before).build(),
                        new ClientResponseObserver<ListUsersRequest, User>() {
                            @Override
                            public void beforeStart(ClientCallStreamObserver<ListUsersRequest> stream) {
                                requests.set(stream);
                                stream.disableAutoRequestWithInitial(1);
                            }

                            @Override
                            public void onNext(User user) {
                                received.add(user);
                            }

                            @Override
                            public void onError(Throwable t) {
                                finished.completeExceptionally(t);
                            }

                            @Override
                            public void onCompleted() {
                                finished.complete(null);
                            }
                        });
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
        // The server fills the client's 16 KiB window and its own send buffer, then stops reading pages.
        long[] last = {-1};
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> {
                    long now = service.api().queries();
                    boolean settled = now == last[0];
                    last[0] = now;
                    return settled;
                });
        long pagesWhileStalled = service.api().queries() - queriesBefore;
        int allPages = count / UsersGrpcService.PAGE;
        assertThat(pagesWhileStalled)
                .as("pages read while the client read one message, of %d", allPages)
                .isBetween(1L, allPages / 4L);

        requests.get().request(Integer.MAX_VALUE);
        finished.get(60, TimeUnit.SECONDS);
        assertThat(received).hasSize(count);
        assertThat(received.get(count - 1).getName()).isEqualTo("slow-" + count);
        // Every page once, and one short page that says the table ended.
        assertThat(service.api().queries() - queriesBefore).isEqualTo(allPages + 1L);
    }

    @Test
    void healthFollowsTheRegistryAndMetricsCountCalls() throws Exception {
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
        HealthCheckRequest whole = HealthCheckRequest.getDefaultInstance();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> health.withDeadlineAfter(5, TimeUnit.SECONDS)
                                .check(whole)
                                .getStatus()
                        == ServingStatus.SERVING);
        service.health().drain();
        try {
            assertThat(health.withDeadlineAfter(5, TimeUnit.SECONDS)
                            .check(whole)
                            .getStatus())
                    .isEqualTo(ServingStatus.NOT_SERVING);
        } finally {
            service.health().cancelDrain();
        }
        assertThat(health.withDeadlineAfter(5, TimeUnit.SECONDS).check(whole).getStatus())
                .isEqualTo(ServingStatus.SERVING);

        assertThatThrownBy(() ->
                        deadline().getUser(GetUserRequest.newBuilder().setId(0).build()))
                .isInstanceOf(StatusRuntimeException.class);
        ByteArrayOutputStream scrape = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(scrape, service.metrics().scrape());
        assertThat(scrape.toString(StandardCharsets.UTF_8))
                .containsPattern("grpc_server_handled_total\\{grpc_code=\"INVALID_ARGUMENT\","
                        + "grpc_method=\"GetUser\",grpc_service=\"belfry.examples.users.v1.UserService\"} [1-9]");
    }
}
