package dev.belfry.http.ratelimit;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Wraps services in {@link ClientRateLimit}: each client (as a key function names it) gets its own
 * token bucket of {@code requests} per {@code per}.
 *
 * <pre>{@code
 * ClientRateLimitLayer.builder(100, Duration.ofSeconds(1))
 *         .key(request -> request.header("x-api-key"))   // null: not limited
 *         .build();
 * }</pre>
 *
 * <p>All services this layer wraps share its buckets. Defaults: bursts of {@code requests}, at most
 * {@link #DEFAULT_MAX_CLIENTS} clients remembered, the system clock.
 */
public final class ClientRateLimitLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    /** How many clients' buckets are kept before the least recently seen is forgotten. */
    public static final int DEFAULT_MAX_CLIENTS = 10_000;

    private final Buckets buckets;
    private final Function<HttpRequest, @Nullable String> key;

    private ClientRateLimitLayer(Buckets buckets, Function<HttpRequest, @Nullable String> key) {
        this.buckets = buckets;
        this.key = key;
    }

    /** A builder of a limit of {@code requests} per {@code per} for each client. */
    public static Builder builder(long requests, Duration per) {
        return new Builder(Checks.positive(requests, "requests"), Checks.positive(per, "per"));
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new ClientRateLimit(Checks.notNull(inner, "inner"), buckets, key);
    }

    /** Settings; each may be made once. Not thread-safe. */
    public static final class Builder {
        private final long requests;
        private final Duration per;
        private final Set<String> set = new HashSet<>();
        private @Nullable Function<HttpRequest, @Nullable String> key;
        private int burst;
        private int maxClients = DEFAULT_MAX_CLIENTS;
        private Clock clock = Clock.system();

        private Builder(long requests, Duration per) {
            this.requests = requests;
            this.per = per;
            this.burst = (int) Math.min(Integer.MAX_VALUE, requests);
        }

        private void once(String setting) {
            if (!set.add(setting)) {
                throw new IllegalStateException(setting + " was already set");
            }
        }

        /**
         * Names the client a request comes from (required): an API key, a principal, a forwarded
         * address. A request it maps to {@code null} is not limited. It runs on the event loop for
         * every request: keep it cheap, never block.
         */
        public Builder key(Function<HttpRequest, @Nullable String> value) {
            once("key");
            this.key = Checks.notNull(value, "key");
            return this;
        }

        /** The most requests a client may make at once after being idle ({@code requests}). */
        public Builder burst(int value) {
            once("burst");
            this.burst = Checks.positive(value, "burst");
            return this;
        }

        /** How many clients' buckets to keep ({@link #DEFAULT_MAX_CLIENTS}). */
        public Builder maxClients(int value) {
            once("maxClients");
            this.maxClients = Checks.positive(value, "maxClients");
            return this;
        }

        /** The clock the buckets fill on (the system clock). */
        public Builder clock(Clock value) {
            once("clock");
            this.clock = Checks.notNull(value, "clock");
            return this;
        }

        /** The layer; fails if no key function was set. */
        public ClientRateLimitLayer build() {
            if (key == null) {
                throw new IllegalStateException("a client rate limit needs a key function: key(request -> ...)");
            }
            return new ClientRateLimitLayer(new Buckets(requests, per, burst, maxClients, clock), key);
        }
    }
}
