package dev.belfry.examples.users;

import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.Services;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.coalesce.Coalesce;
import dev.belfry.coalesce.CoalesceLayer;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.router.JsonHandler;
import dev.belfry.http.router.Router;
import dev.belfry.retry.RetryPolicy;
import dev.belfry.time.Clock;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * The users API: {@code GET} and {@code POST /api/v1/users}, {@code GET} and {@code DELETE
 * /api/v1/users/{id}}, JSON in and out.
 *
 * <p>Every database call goes through one core stack: a circuit breaker (an unreachable database
 * fails calls at once instead of tying up a connection wait each), a retry of reads that failed
 * transiently (within the retry's budget), and a timeout per attempt, over the blocking JDBC call
 * on a virtual thread. {@code GET} by id is coalesced and cached for a short time: many concurrent
 * readers of one id make one query, and a write to that id forgets what was cached.
 */
public final class UsersApi implements AutoCloseable {
    /** The longest one database attempt may take. */
    public static final Duration QUERY_TIMEOUT = Duration.ofSeconds(2);
    /** How long a read by id is served from the cache. */
    public static final Duration CACHE_FOR = Duration.ofSeconds(5);

    /** The largest request body the API reads (a {@code POST}'s JSON). */
    public static final int MAX_BODY = 16 * 1024;

    private static final int MAX_PAGE = 1000;
    private static final int MAX_NAME = 200;
    private static final int MAX_EMAIL = 320;

    private final UserStore store;
    private final Service<Query, Object> database;
    private final Coalesce<Long, Optional<User>> byId;

    /** One database call; {@code read} ones may be repeated after a transient failure. */
    private record Query(boolean read, SqlCall call) {}

    @FunctionalInterface
    private interface SqlCall {
        Object run() throws SQLException;
    }

    public UsersApi(UserStore store, Clock clock) {
        this.store = store;
        this.database = ServiceBuilder.<Query, Object>builder()
                .clock(clock)
                .circuitBreaker()
                .retry(RetryPolicy.<Query, Object>standard()
                        .maxAttempts(3)
                        .idempotent(Query::read)
                        .retryOn(UsersApi::transient_)
                        .build())
                .timeout(QUERY_TIMEOUT)
                .service(Services.blocking(UsersApi::run));
        this.byId = CoalesceLayer.<Long, Optional<User>>builder(id -> id)
                .cacheFor(CACHE_FOR)
                .maxCached(10_000)
                .clock(clock)
                .build()
                .wrap(Services.of(id -> query(true, () -> store.find(id))));
    }

    private static Object run(Query query) {
        try {
            return query.call().run();
        } catch (SQLException e) {
            throw new DatabaseException(e);
        }
    }

    /** Connection trouble, a server restarting, a serialization conflict: worth another try. */
    private static boolean transient_(Throwable failure) {
        if (!(failure instanceof DatabaseException e) || !(e.getCause() instanceof SQLException sql)) {
            return false;
        }
        String state = sql.getSQLState();
        return sql instanceof SQLTransientException
                || (state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("40001")));
    }

    // The stack is typed Object so one stack serves every query; each caller knows its result type.
    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> query(boolean read, SqlCall call) {
        return database.call(new Query(read, call)).thenApply(result -> (T) result);
    }

    /**
     * The user with {@code id}, through the coalescing cache: concurrent callers for one id share
     * one query, and an answer is reused for {@link #CACHE_FOR} unless a write invalidates it.
     * Fails with {@link DatabaseException} or the core's exceptions (an open circuit, a timeout).
     */
    public CompletableFuture<Optional<User>> find(long id) {
        return byId.call(id);
    }

    /** Up to {@code limit} users in id order after {@code afterId}, through the database stack. */
    public CompletableFuture<List<User>> page(long afterId, int limit) {
        return query(true, () -> store.list(afterId, limit));
    }

    /** The API's routes, to mount on a server (or nest under a prefix), with nothing around the writes. */
    public Router.Builder addTo(Router.Builder routes) {
        return addTo(routes, Layer.identity());
    }

    /**
     * The API's routes, with {@code writes} (such as an {@code AuthLayer}) around {@code POST} and
     * {@code DELETE} only: anyone may read, only holders of a token may write.
     */
    public Router.Builder addTo(
            Router.Builder routes, Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> writes) {
        return routes.get("/api/v1/users", this::list)
                .route(HttpMethod.POST, "/api/v1/users", writes, JsonHandler.of(NewUser.class, MAX_BODY, this::create))
                .get("/api/v1/users/{id}", this::get)
                .route(HttpMethod.DELETE, "/api/v1/users/{id}", writes, this::delete);
    }

    private CompletableFuture<HttpResponse> list(HttpRequest request) {
        long after;
        int limit;
        try {
            after = number(request.queryParam("after"), 0, 0, Long.MAX_VALUE, "after");
            limit = (int) number(request.queryParam("limit"), 100, 1, MAX_PAGE, "limit");
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(problem(400, e.getMessage()));
        }
        return this.<List<User>>query(true, () -> store.list(after, limit))
                .thenApply(HttpResponse::json)
                .exceptionally(UsersApi::failure);
    }

    private CompletionStage<?> create(HttpRequest request, NewUser user) {
        String name = user.name() == null ? "" : user.name().strip();
        String email = user.email() == null ? "" : user.email().strip();
        if (name.isEmpty() || name.length() > MAX_NAME) {
            return CompletableFuture.completedFuture(problem(400, "name must be 1 to " + MAX_NAME + " characters"));
        }
        if (email.length() > MAX_EMAIL || email.indexOf('@') < 1 || email.indexOf('@') == email.length() - 1) {
            return CompletableFuture.completedFuture(problem(400, "email must look like name@example.com"));
        }
        return this.<User>query(false, () -> store.create(name, email))
                .thenApply(created -> {
                    byId.invalidate(created.id()); // a 404 for this id may be cached
                    return HttpResponse.status(201)
                            .header("location", "/api/v1/users/" + created.id())
                            .json(created)
                            .build();
                })
                .exceptionally(UsersApi::failure);
    }

    private CompletableFuture<HttpResponse> get(HttpRequest request) {
        long id;
        try {
            id = id(request);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(problem(400, e.getMessage()));
        }
        return byId.call(id)
                .thenApply(user -> user.map(HttpResponse::json).orElseGet(() -> problem(404, "no user " + id)))
                .exceptionally(UsersApi::failure);
    }

    private CompletableFuture<HttpResponse> delete(HttpRequest request) {
        long id;
        try {
            id = id(request);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(problem(400, e.getMessage()));
        }
        return this.<Boolean>query(false, () -> store.delete(id))
                .thenApply(deleted -> {
                    byId.invalidate(id);
                    return deleted ? HttpResponse.of(204) : problem(404, "no user " + id);
                })
                .exceptionally(UsersApi::failure);
    }

    private static long id(HttpRequest request) {
        return number(Router.param(request, "id"), -1, 1, Long.MAX_VALUE, "id");
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

    /** A JSON problem body: {@code {"error": "..."}}. */
    private static HttpResponse problem(int status, @Nullable String message) {
        return HttpResponse.status(status)
                .json(Map.of("error", message == null ? "" : message))
                .build();
    }

    /**
     * What the client gets for a failed call: 409 for a taken email, 503 when the database is
     * unreachable; the rest (timeouts, an open circuit, overload) goes to the server's own mapping.
     */
    private static HttpResponse failure(Throwable thrown) {
        Throwable cause = thrown instanceof java.util.concurrent.CompletionException && thrown.getCause() != null
                ? thrown.getCause()
                : thrown;
        if (cause instanceof DuplicateEmailException duplicate) {
            return problem(409, duplicate.getMessage());
        }
        if (cause instanceof DatabaseException) {
            return problem(503, "the database is unavailable; try again later");
        }
        if (cause instanceof RuntimeException runtime) {
            throw runtime;
        }
        throw new java.util.concurrent.CompletionException(cause);
    }

    /** How many queries reached the database (for the coalescing figures). */
    public long queries() {
        return store.queries();
    }

    @Override
    public void close() {
        byId.close();
        database.close();
    }
}
