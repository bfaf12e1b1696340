package dev.belfry.examples.users;

import dev.belfry.Futures;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.ServiceException;
import dev.belfry.Services;
import dev.belfry.backoff.Backoff;
import dev.belfry.breaker.BreakerListener;
import dev.belfry.breaker.CircuitBreakerLayer;
import dev.belfry.breaker.CircuitState;
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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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

    /** The header on a read served from memory while the database is away. */
    public static final String STALE_HEADER = "x-stale";

    /** The largest request body the API reads (a {@code POST}'s JSON). */
    public static final int MAX_BODY = 16 * 1024;

    private static final int MAX_PAGE = 1000;
    private static final int MAX_LAST_KNOWN = 10_000;
    private static final Duration OPEN_MIN = Duration.ofSeconds(1);
    private static final Duration OPEN_MAX = Duration.ofSeconds(2);
    private static final int MAX_NAME = 200;
    private static final int MAX_EMAIL = 320;

    private final UserStore store;
    private final Service<Query, Object> database;
    private final Coalesce<Long, Optional<User>> byId;
    private final AtomicReference<CircuitState> circuit = new AtomicReference<>(CircuitState.CLOSED);
    private final AtomicLong opened = new AtomicLong();
    private final AtomicLong servedStale = new AtomicLong();
    // The last user read for each id, served when the database cannot be asked (stale-if-error).
    private final Map<Long, User> lastKnown = Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, User> eldest) {
            return size() > MAX_LAST_KNOWN;
        }
    });

    /** A read by id: the user (or none), and whether it is a stale copy served while the database is away. */
    public record Read(Optional<User> user, boolean stale) {}

    /** One database call; {@code read} ones may be repeated after a transient failure. */
    private record Query(boolean read, SqlCall call) {}

    @FunctionalInterface
    private interface SqlCall {
        Object run() throws SQLException;
    }

    public UsersApi(UserStore store, Clock clock) {
        this(store, clock, CACHE_FOR);
    }

    /**
     * The API with reads by id cached for {@code cacheFor} ({@link Duration#ZERO}: coalesced only,
     * never cached; for measuring what the cache saves).
     */
    public UsersApi(UserStore store, Clock clock, Duration cacheFor) {
        this.store = store;
        this.database = ServiceBuilder.<Query, Object>builder()
                .clock(clock)
                .layer(CircuitBreakerLayer.<Query, Object>builder()
                        // Probe a sick database every 1 to 2 s (full jitter), never waiting longer:
                        // the time to recover after it is back stays short.
                        .openInterval(Backoff.exponential(
                                OPEN_MIN,
                                OPEN_MAX,
                                () -> ThreadLocalRandom.current().nextLong()))
                        .listener(new BreakerListener() {
                            @Override
                            public void onStateChange(CircuitState from, CircuitState to) {
                                circuit.set(to);
                                if (to == CircuitState.OPEN) {
                                    opened.incrementAndGet();
                                }
                            }
                        })
                        .clock(clock)
                        .build())
                .retry(RetryPolicy.<Query, Object>standard()
                        .maxAttempts(3)
                        .idempotent(Query::read)
                        .retryOn(UsersApi::transient_)
                        .build())
                .timeout(QUERY_TIMEOUT)
                .service(Services.blocking(UsersApi::run));
        CoalesceLayer.Builder<Long, Optional<User>> coalesce =
                CoalesceLayer.<Long, Optional<User>>builder(id -> id).clock(clock);
        if (cacheFor.isPositive()) {
            coalesce.cacheFor(cacheFor).maxCached(10_000);
        }
        this.byId = coalesce.build().wrap(Services.of(id -> query(true, () -> store.find(id))));
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
        return read(id).thenApply(Read::user);
    }

    /**
     * The user with {@code id} as {@link #find} reads it, except that when the database cannot be
     * asked (unreachable, circuit open, timed out) a user read before is served from memory, marked
     * {@linkplain Read#stale() stale}: a read that was answered once keeps being answered during an
     * outage. A write or a read that finds no user forgets the copy.
     */
    public CompletableFuture<Read> read(long id) {
        return byId.call(id).handle((user, failure) -> {
            if (failure == null) {
                if (user.isPresent()) {
                    lastKnown.put(id, user.get());
                } else {
                    lastKnown.remove(id);
                }
                return new Read(user, false);
            }
            Throwable cause = Futures.unwrap(failure);
            User known = lastKnown.get(id);
            if (known != null && (cause instanceof DatabaseException || cause instanceof ServiceException)) {
                servedStale.incrementAndGet();
                return new Read(Optional.of(known), true);
            }
            throw failure instanceof CompletionException e ? e : new CompletionException(cause);
        });
    }

    /** The user with {@code id} straight from the database (no coalescing, no cache): for comparisons. */
    public CompletableFuture<Optional<User>> findUncached(long id) {
        return query(true, () -> store.find(id));
    }

    /** The state of the database's circuit breaker. */
    public CircuitState circuit() {
        return circuit.get();
    }

    /** How many times the circuit has opened. */
    public long circuitOpenings() {
        return opened.get();
    }

    /** How many reads were answered with a stale copy while the database was away. */
    public long servedStale() {
        return servedStale.get();
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
        return read(id).thenApply(read -> read.user()
                        .map(user -> read.stale()
                                ? HttpResponse.status(200)
                                        .header(STALE_HEADER, "true")
                                        .json(user)
                                        .build()
                                : HttpResponse.json(user))
                        .orElseGet(() -> problem(404, "no user " + id)))
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
                    lastKnown.remove(id);
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
