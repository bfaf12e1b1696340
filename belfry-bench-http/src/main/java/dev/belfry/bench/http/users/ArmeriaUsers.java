package dev.belfry.bench.http.users;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.metric.MeterIdPrefixFunction;
import com.linecorp.armeria.common.util.EventLoopGroups;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.auth.AuthService;
import com.linecorp.armeria.server.encoding.EncodingService;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.logging.AccessLogWriter;
import com.linecorp.armeria.server.metric.MetricCollectingService;
import dev.belfry.examples.users.DuplicateEmailException;
import dev.belfry.examples.users.NewUser;
import dev.belfry.examples.users.User;
import dev.belfry.examples.users.UserStore;
import dev.belfry.examples.users.UsersApi;
import dev.belfry.examples.users.grpc.GetUserRequest;
import dev.belfry.examples.users.grpc.UserServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The reference service's users API written with Armeria, as an Armeria user would: the same routes,
 * JSON shapes and status codes as {@code UsersService}, over the examples' {@link UserStore} (the
 * same SQL) on the caller's pool.
 *
 * <ul>
 *   <li>{@code GET /api/v1/users?after=&limit=}, {@code POST /api/v1/users} (bearer token, a 16 KiB
 *       body at most), {@code GET} and {@code DELETE /api/v1/users/{id}}; problems as {@code
 *       {"error": "..."}} with 400, 404, 409, 503.
 *   <li>Reads by id through a Caffeine async cache: concurrent readers of an id share one query, an
 *       answer (a 404 too) is kept {@link UsersApi#CACHE_FOR} for at most 10,000 ids, and a write
 *       forgets it; when the database cannot be asked, the last user read is served with {@code
 *       x-stale: true}: the semantics of {@code UsersApi}.
 *   <li>Every JDBC call on a virtual thread (as {@code UsersApi}'s {@code Services.blocking}), failed
 *       after {@link UsersApi#QUERY_TIMEOUT}. Unlike {@code UsersApi} there is no circuit breaker
 *       and no retry around it: Armeria has neither for calls that are not HTTP or gRPC.
 *   <li>Decorators in place of Belfry's layers: the access log ({@link AccessLogWriter#common()}),
 *       metrics ({@link MetricCollectingService} on a Micrometer registry per server; no
 *       {@code /metrics} route), the request id
 *       ({@code x-request-id}: Armeria's own), compression ({@link EncodingService}), a 10 s
 *       request timeout, the bearer token ({@link AuthService}) around the writes.
 *   <li>gRPC {@code UserService.GetUser} through Armeria's {@link GrpcService} on the examples'
 *       generated stubs, on a second port (as {@code UsersService} has); {@code ListUsers} is not
 *       written here and answers {@code UNIMPLEMENTED}.
 * </ul>
 *
 * <p>Both servers share one worker event loop group of {@code ioThreads} loops.
 */
public final class ArmeriaUsers implements AutoCloseable {
    private static final int MAX_CACHED = 10_000;
    private static final int MAX_PAGE = 1000;
    private static final int MAX_NAME = 200;
    private static final int MAX_EMAIL = 320;

    private final Server http;
    private final Server grpc;
    private final EventLoopGroup workers;
    private final ExecutorService blocking;

    private ArmeriaUsers(Server http, Server grpc, EventLoopGroup workers, ExecutorService blocking) {
        this.http = http;
        this.grpc = grpc;
        this.workers = workers;
        this.blocking = blocking;
    }

    /**
     * Migrates the schema and starts both servers on 127.0.0.1 (port 0: any free one).
     *
     * @throws SQLException if the database cannot be reached to migrate
     */
    public static ArmeriaUsers start(
            DataSource dataSource, String writeToken, int httpPort, int grpcPort, int ioThreads) throws SQLException {
        if (writeToken.isBlank()) {
            throw new IllegalArgumentException("the write token must not be empty");
        }
        UserStore store = new UserStore(dataSource);
        store.migrate();
        ExecutorService blocking = Executors.newVirtualThreadPerTaskExecutor();
        Users users = new Users(store, blocking);
        EventLoopGroup workers = EventLoopGroups.newEventLoopGroup(ioThreads);
        InetAddress loopback = InetAddress.getLoopbackAddress();

        ServerBuilder http = Server.builder()
                .http(new InetSocketAddress(loopback, httpPort))
                .workerGroup(workers, false)
                .meterRegistry(new SimpleMeterRegistry())
                .requestTimeout(Duration.ofSeconds(10))
                .accessLogWriter(AccessLogWriter.common(), true)
                .decorator((delegate, ctx, req) -> {
                    ctx.addAdditionalResponseHeader("x-request-id", ctx.id().text());
                    return delegate.serve(ctx, req);
                });
        var writes = AuthService.builder()
                .addOAuth2((ctx, token) -> CompletableFuture.completedFuture(writeToken.equals(token.accessToken())))
                .newDecorator();
        http.route().get("/api/v1/users").build(users::list);
        http.route().get("/api/v1/users/{id}").build(users::get);
        http.route()
                .post("/api/v1/users")
                .maxRequestLength(UsersApi.MAX_BODY)
                .decorator(writes)
                .build(users::create);
        http.route().delete("/api/v1/users/{id}").decorator(writes).build(users::delete);
        http.decoratorUnder("/api/", EncodingService.newDecorator());
        http.decoratorUnder(
                "/api/", MetricCollectingService.newDecorator(MeterIdPrefixFunction.ofDefault("http.server")));

        Server grpc = Server.builder()
                .http(new InetSocketAddress(loopback, grpcPort))
                .workerGroup(workers, false)
                // A registry per server: each registers its own executor gauges under one name.
                .meterRegistry(new SimpleMeterRegistry())
                .service(
                        GrpcService.builder().addService(new Grpc(users)).build(),
                        MetricCollectingService.newDecorator(MeterIdPrefixFunction.ofDefault("grpc.server")))
                .build();
        Server built = http.build();
        try {
            built.start().join();
            grpc.start().join();
        } catch (CompletionException e) {
            built.stop().join();
            workers.shutdownGracefully();
            blocking.shutdownNow();
            throw e;
        }
        return new ArmeriaUsers(built, grpc, workers, blocking);
    }

    /** The HTTP port. */
    public int port() {
        return http.activeLocalPort();
    }

    /** The gRPC port. */
    public int grpcPort() {
        return grpc.activeLocalPort();
    }

    @Override
    public void close() {
        grpc.stop().join();
        http.stop().join();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        blocking.shutdownNow();
    }

    /** The API over the store: the cache, the blocking calls, the routes' handlers. */
    private static final class Users {
        private static final ObjectMapper JSON = new ObjectMapper();

        private final UserStore store;
        private final ExecutorService blocking;
        private final AsyncLoadingCache<Long, Optional<User>> byId;
        // The last user read for each id, served when the database cannot be asked (stale-if-error).
        private final Cache<Long, User> lastKnown;

        Users(UserStore store, ExecutorService blocking) {
            this.store = store;
            this.blocking = blocking;
            this.byId = Caffeine.newBuilder()
                    .expireAfterWrite(UsersApi.CACHE_FOR)
                    .maximumSize(MAX_CACHED)
                    .buildAsync((id, executor) -> query(() -> store.find(id)));
            this.lastKnown = Caffeine.newBuilder().maximumSize(MAX_CACHED).build();
        }

        @FunctionalInterface
        interface SqlCall<T> {
            T run() throws SQLException;
        }

        /** {@code call} on a virtual thread, failed with a {@link TimeoutException} after the query timeout. */
        <T> CompletableFuture<T> query(SqlCall<T> call) {
            return CompletableFuture.supplyAsync(
                            () -> {
                                try {
                                    return call.run();
                                } catch (SQLException e) {
                                    throw new CompletionException(e);
                                }
                            },
                            blocking)
                    .orTimeout(UsersApi.QUERY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** A read by id through the cache, or the last copy (stale) when the database cannot be asked. */
        CompletableFuture<Read> read(long id) {
            return byId.get(id).handle((user, failure) -> {
                if (failure == null) {
                    if (user.isPresent()) {
                        lastKnown.put(id, user.get());
                    } else {
                        lastKnown.invalidate(id);
                    }
                    return new Read(user, false);
                }
                User known = lastKnown.getIfPresent(id);
                if (known != null && unavailable(failure)) {
                    return new Read(Optional.of(known), true);
                }
                throw failure instanceof CompletionException e ? e : new CompletionException(failure);
            });
        }

        HttpResponse get(ServiceRequestContext ctx, HttpRequest req) {
            long id;
            try {
                id = number(ctx.pathParam("id"), -1, 1, Long.MAX_VALUE, "id");
            } catch (IllegalArgumentException e) {
                return problem(HttpStatus.BAD_REQUEST, e.getMessage());
            }
            return HttpResponse.of(read(id).handle((read, failure) -> {
                if (failure != null) {
                    return failure(failure);
                }
                if (read.user().isEmpty()) {
                    return problem(HttpStatus.NOT_FOUND, "no user " + id);
                }
                if (read.stale()) {
                    return HttpResponse.ofJson(
                            ResponseHeaders.builder(HttpStatus.OK)
                                    .add("x-stale", "true")
                                    .build(),
                            read.user().get());
                }
                return HttpResponse.ofJson(read.user().get());
            }));
        }

        HttpResponse list(ServiceRequestContext ctx, HttpRequest req) {
            long after;
            int limit;
            try {
                after = number(ctx.queryParam("after"), 0, 0, Long.MAX_VALUE, "after");
                limit = (int) number(ctx.queryParam("limit"), 100, 1, MAX_PAGE, "limit");
            } catch (IllegalArgumentException e) {
                return problem(HttpStatus.BAD_REQUEST, e.getMessage());
            }
            return HttpResponse.of(this.<List<User>>query(() -> store.list(after, limit))
                    .handle((users, failure) -> failure != null ? failure(failure) : HttpResponse.ofJson(users)));
        }

        HttpResponse create(ServiceRequestContext ctx, HttpRequest req) {
            return HttpResponse.of(req.aggregate().thenCompose(body -> {
                NewUser user;
                try {
                    user = JSON.readValue(body.content().array(), NewUser.class);
                } catch (java.io.IOException e) {
                    return CompletableFuture.completedFuture(HttpResponse.of(
                            HttpStatus.BAD_REQUEST, MediaType.PLAIN_TEXT_UTF_8, "bad request: %s\n", e.getMessage()));
                }
                if (user == null) {
                    return CompletableFuture.completedFuture(HttpResponse.of(
                            HttpStatus.BAD_REQUEST, MediaType.PLAIN_TEXT_UTF_8, "bad request: no JSON object\n"));
                }
                String name = user.name() == null ? "" : user.name().strip();
                String email = user.email() == null ? "" : user.email().strip();
                if (name.isEmpty() || name.length() > MAX_NAME) {
                    return CompletableFuture.completedFuture(
                            problem(HttpStatus.BAD_REQUEST, "name must be 1 to " + MAX_NAME + " characters"));
                }
                if (email.length() > MAX_EMAIL || email.indexOf('@') < 1 || email.indexOf('@') == email.length() - 1) {
                    return CompletableFuture.completedFuture(
                            problem(HttpStatus.BAD_REQUEST, "email must look like name@example.com"));
                }
                return query(() -> store.create(name, email)).handle((created, failure) -> {
                    if (failure != null) {
                        return failure(failure);
                    }
                    byId.synchronous().invalidate(created.id()); // a 404 for this id may be cached
                    return HttpResponse.ofJson(
                            ResponseHeaders.builder(HttpStatus.CREATED)
                                    .add(HttpHeaderNames.LOCATION, "/api/v1/users/" + created.id())
                                    .build(),
                            created);
                });
            }));
        }

        HttpResponse delete(ServiceRequestContext ctx, HttpRequest req) {
            long id;
            try {
                id = number(ctx.pathParam("id"), -1, 1, Long.MAX_VALUE, "id");
            } catch (IllegalArgumentException e) {
                return problem(HttpStatus.BAD_REQUEST, e.getMessage());
            }
            return HttpResponse.of(query(() -> store.delete(id)).handle((deleted, failure) -> {
                if (failure != null) {
                    return failure(failure);
                }
                byId.synchronous().invalidate(id);
                lastKnown.invalidate(id);
                return deleted
                        ? HttpResponse.of(HttpStatus.NO_CONTENT)
                        : problem(HttpStatus.NOT_FOUND, "no user " + id);
            }));
        }

        private static long number(@Nullable String text, long fallback, long min, long max, String what) {
            if (text == null) {
                if (fallback < 0) {
                    throw new IllegalArgumentException(what + " is required");
                }
                return fallback;
            }
            try {
                long value = Long.parseLong(text);
                if (value >= min && value <= max) {
                    return value;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(what + " must be a whole number from " + min + " to " + max);
        }

        private static HttpResponse problem(HttpStatus status, @Nullable String message) {
            return HttpResponse.ofJson(status, Map.of("error", message == null ? "" : message));
        }

        /** 409 for a taken email, 503 when the database cannot be asked, 500 otherwise. */
        private static HttpResponse failure(Throwable failure) {
            Throwable cause = unwrap(failure);
            if (cause instanceof DuplicateEmailException duplicate) {
                return problem(HttpStatus.CONFLICT, duplicate.getMessage());
            }
            if (unavailable(cause)) {
                return problem(HttpStatus.SERVICE_UNAVAILABLE, "the database is unavailable; try again later");
            }
            return HttpResponse.of(
                    HttpStatus.INTERNAL_SERVER_ERROR, MediaType.PLAIN_TEXT_UTF_8, "internal server error\n");
        }

        static boolean unavailable(Throwable failure) {
            Throwable cause = unwrap(failure);
            return cause instanceof SQLException || cause instanceof TimeoutException;
        }

        static Throwable unwrap(Throwable failure) {
            Throwable cause = failure;
            while (cause instanceof CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            return cause;
        }
    }

    /** A read by id: the user (or none), and whether it is a copy served while the database is away. */
    private record Read(Optional<User> user, boolean stale) {}

    /** {@code GetUser} through the same cache as {@code GET /api/v1/users/{id}}. */
    private static final class Grpc extends UserServiceGrpc.UserServiceImplBase {
        private final Users users;

        Grpc(Users users) {
            this.users = users;
        }

        @Override
        public void getUser(GetUserRequest request, StreamObserver<dev.belfry.examples.users.grpc.User> response) {
            long id = request.getId();
            if (id < 1) {
                response.onError(Status.INVALID_ARGUMENT
                        .withDescription("id must be 1 or more, was " + id)
                        .asRuntimeException());
                return;
            }
            users.read(id).whenComplete((read, failure) -> {
                if (failure != null) {
                    response.onError(
                            Users.unavailable(failure)
                                    ? Status.UNAVAILABLE
                                            .withDescription("the database is unavailable; try again later")
                                            .asRuntimeException()
                                    : Status.INTERNAL
                                            .withDescription("internal error")
                                            .asRuntimeException());
                } else if (read.user().isEmpty()) {
                    response.onError(
                            Status.NOT_FOUND.withDescription("no user " + id).asRuntimeException());
                } else {
                    User user = read.user().get();
                    response.onNext(dev.belfry.examples.users.grpc.User.newBuilder()
                            .setId(user.id())
                            .setName(user.name())
                            .setEmail(user.email())
                            .build());
                    response.onCompleted();
                }
            });
        }
    }
}
