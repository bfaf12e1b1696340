package dev.belfry.http.ratelimit;

import dev.belfry.limit.RateLimiter;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The token buckets of a {@link ClientRateLimitLayer}, one per client key, the least recently seen
 * forgotten beyond {@code maxClients}. A forgotten client starts again with a full bucket, as if it
 * had been idle: a bound on memory, at the price of a burst for a client that comes back after
 * {@code maxClients} others. Thread-safe (one lock around the map; the buckets lock themselves).
 */
final class Buckets {
    private final long requests;
    private final Duration per;
    private final int burst;
    private final int maxClients;
    private final Clock clock;
    private final Duration retryAfter;
    private final LinkedHashMap<String, RateLimiter> byClient;

    Buckets(long requests, Duration per, int burst, int maxClients, Clock clock) {
        this.requests = requests;
        this.per = per;
        this.burst = burst;
        this.maxClients = maxClients;
        this.clock = clock;
        this.retryAfter = per.dividedBy(requests);
        this.byClient = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, RateLimiter> eldest) {
                return size() > Buckets.this.maxClients;
            }
        };
    }

    /** Takes a token from {@code client}'s bucket; whether there was one. */
    boolean tryAcquire(String client) {
        RateLimiter bucket;
        synchronized (byClient) {
            bucket = byClient.computeIfAbsent(
                    client,
                    ignored -> RateLimiter.builder()
                            .rate(requests, per)
                            .burst(burst)
                            .clock(clock)
                            .build());
        }
        return bucket.tryAcquire();
    }

    /** How long one token takes to arrive: the least a refused client should wait. */
    Duration retryAfter() {
        return retryAfter;
    }

    /** The limit as text, such as {@code 10 per 1s}. */
    String describe() {
        return requests + " per " + per.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
    }

    int clients() {
        synchronized (byClient) {
            return byClient.size();
        }
    }
}
