package dev.belfry.netty.dns;

import dev.belfry.backoff.Backoff;
import dev.belfry.netty.dns.DnsDiscover.Status;
import dev.belfry.time.Clock;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * When a DNS discovery looks its name up again and what it makes of each lookup's outcome: the
 * refresh policy, a state machine on the core's {@link Clock} with no DNS in it.
 *
 * <pre>
 *            succeeded                     failed, endpoints published, within the hold
 *  STARTING ──────────► OK ◄─────────┐   ┌─────────────────────────────► HOLDING
 *     │                  │ succeeded │   │                                  │ failed past the hold:
 *     │ failed           └───────────┴───┘                                  ├─ NXDOMAIN ──► FAILED (drop all)
 *     ▼                                                                     └─ other ─────► STALE
 *   FAILED (nothing published)                     any state ── close() ──► CLOSED
 * </pre>
 *
 * <ul>
 *   <li>After a success the next lookup is due after the answer's smallest TTL, clamped to {@code
 *       [minTtl, maxTtl]}.
 *   <li>After a failure it is due after {@code backoff.delay(consecutiveFailures)}. The hold is
 *       counted from the first failure of a run and checked at each failure, so the drop (NXDOMAIN)
 *       or the move to STALE (any other error) happens at the first failure at or after it expires.
 *   <li>With no endpoints published, a failure is FAILED whatever the hold.
 * </ul>
 *
 * <p>Each outcome is recorded in two steps: {@link #succeeded} or {@link #failed} decides (and
 * returns what the caller must do: publish, drop, log), then {@link #scheduleNext} starts the
 * timer, so the caller publishes the answer before the next lookup can begin. The timer runs the
 * {@code lookup} task given at construction; {@link #beginLookup} marks it running.
 *
 * <p>Thread-safe: every method holds this object's lock, and none calls out while holding it except
 * to schedule on the clock.
 */
final class DnsRefresh {
    private final Clock clock;
    private final Duration minTtl;
    private final Duration maxTtl;
    private final Duration hold;
    private final Backoff backoff;
    private final Runnable lookup;

    private Status status = Status.STARTING;
    private Clock.@Nullable Scheduled timer;
    private long timerDueNanos;
    private @Nullable Duration ttl;
    private boolean everSucceeded;
    private long lastSuccessNanos;
    private long failingSinceNanos;
    private int consecutiveFailures;
    private @Nullable DnsResolutionException lastError;
    private long lookups;

    /**
     * A policy on {@code clock} that runs {@code lookup} when the next lookup is due; {@code minTtl}
     * must not exceed {@code maxTtl} (the discovery's builder checks).
     */
    DnsRefresh(Clock clock, Duration minTtl, Duration maxTtl, Duration hold, Backoff backoff, Runnable lookup) {
        this.clock = clock;
        this.minTtl = minTtl;
        this.maxTtl = maxTtl;
        this.hold = hold;
        this.backoff = backoff;
        this.lookup = lookup;
    }

    /** A lookup begins (the timer fired, or the first one): no timer is pending. False once closed. */
    synchronized boolean beginLookup() {
        if (status == Status.CLOSED) {
            return false;
        }
        timer = null;
        return true;
    }

    /**
     * Records a lookup that answered with a smallest TTL of {@code minTtlSeconds}: status OK, the
     * failure run over. Returns what to do next, or null once closed (then do nothing).
     */
    synchronized @Nullable Outcome succeeded(long minTtlSeconds) {
        if (status == Status.CLOSED) {
            return null;
        }
        Status before = status;
        Duration delay = clamp(minTtlSeconds);
        boolean recovered = consecutiveFailures > 0;
        status = Status.OK;
        ttl = delay;
        everSucceeded = true;
        lastSuccessNanos = clock.nanoTime();
        consecutiveFailures = 0;
        lookups++;
        return new Outcome(before, status, delay, 0, recovered, false);
    }

    /**
     * Records a failed lookup while {@code published} endpoints are published. Returns what to do
     * next (drop every endpoint if {@link Outcome#drop()}), or null once closed.
     */
    synchronized @Nullable Outcome failed(DnsResolutionException error, int published) {
        if (status == Status.CLOSED) {
            return null;
        }
        Status before = status;
        consecutiveFailures++;
        long now = clock.nanoTime();
        if (consecutiveFailures == 1) {
            failingSinceNanos = now;
        }
        lastError = error;
        lookups++;
        boolean holdOver = now - failingSinceNanos >= hold.toNanos();
        boolean drop = false;
        if (published == 0) {
            status = Status.FAILED;
        } else if (!holdOver) {
            status = Status.HOLDING;
        } else if (error.kind() == DnsResolutionException.Kind.NXDOMAIN) {
            drop = true;
            status = Status.FAILED;
        } else {
            status = Status.STALE;
        }
        return new Outcome(before, status, backoff.delay(consecutiveFailures), consecutiveFailures, false, drop);
    }

    /** Schedules the next lookup after {@code delay}. False (and nothing scheduled) once closed. */
    synchronized boolean scheduleNext(Duration delay) {
        if (status == Status.CLOSED) {
            return false;
        }
        timerDueNanos = clock.nanoTime() + delay.toNanos();
        timer = clock.schedule(delay, lookup);
        return true;
    }

    /** Closes the policy and cancels a pending lookup; true the first time only. */
    boolean close() {
        Clock.Scheduled pending;
        synchronized (this) {
            if (status == Status.CLOSED) {
                return false;
            }
            status = Status.CLOSED;
            pending = timer;
            timer = null;
        }
        // Outside our lock, as a clock may run other tasks' bookkeeping under its own.
        if (pending != null) {
            pending.cancel();
        }
        return true;
    }

    /** Whether {@link #close()} was called. */
    synchronized boolean isClosed() {
        return status == Status.CLOSED;
    }

    /** The policy's state now, for diagnostics. */
    synchronized Snapshot snapshot() {
        long now = clock.nanoTime();
        return new Snapshot(
                status,
                ttl,
                everSucceeded ? Duration.ofNanos(now - lastSuccessNanos) : null,
                consecutiveFailures,
                lastError,
                timer != null ? Duration.ofNanos(Math.max(0, timerDueNanos - now)) : null,
                lookups);
    }

    private Duration clamp(long ttlSeconds) {
        Duration answered = Duration.ofSeconds(Math.max(0, Math.min(ttlSeconds, Integer.MAX_VALUE)));
        if (answered.compareTo(minTtl) < 0) {
            return minTtl;
        }
        return answered.compareTo(maxTtl) > 0 ? maxTtl : answered;
    }

    /**
     * What one lookup's outcome changed.
     *
     * @param before the status before it
     * @param after the status after it
     * @param delay the wait before the next lookup
     * @param failures consecutive failures, this one included; 0 after a success
     * @param recovered a success that ended a run of failures
     * @param drop a failure after which every endpoint must be removed
     */
    record Outcome(Status before, Status after, Duration delay, int failures, boolean recovered, boolean drop) {}

    /** The policy's part of {@link DnsDiscover.State}. */
    record Snapshot(
            Status status,
            @Nullable Duration ttl,
            @Nullable Duration sinceLastSuccess,
            int consecutiveFailures,
            @Nullable DnsResolutionException lastError,
            @Nullable Duration nextLookupIn,
            long lookups) {}
}
