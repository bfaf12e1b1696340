package dev.belfry.limit;

import dev.belfry.Checks;
import dev.belfry.OverloadedException;
import dev.belfry.time.Clock;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * A token bucket: admits requests at a steady rate with bursts up to a bound, the shared state of a
 * {@link RateLimit}.
 *
 * <p>The bucket holds at most {@code burst} tokens and starts full; it gains {@code requests} tokens
 * every {@code per}, evenly spaced: the {@code k}th token after a full bucket is drawn from arrives
 * exactly {@code k * per / requests} later, rounded up to the nanosecond, so rounding never
 * accumulates. Tokens are counted from {@link Clock#nanoTime} when someone asks, so an idle limiter
 * runs no timer. A caller that finds no token waits in line (at most {@code
 * maxQueued} callers wait; beyond that {@link #acquire} fails with {@link OverloadedException}); one
 * timer, set for the next token's arrival, wakes waiters in order, and it is cancelled when nobody
 * waits.
 *
 * <p>One instance may be shared by any number of services and threads: together they get the rate.
 * Cancelling a waiting caller's future takes it out of the line without spending a token; a token
 * handed to a caller at the instant it cancels goes to the next one. Futures are completed outside
 * the lock. Thread-safe.
 */
public final class RateLimiter {
    private final long requests;
    private final Duration per;
    private final long perNanos;
    private final int burst;
    private final int maxQueued;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();

    // Guarded by lock. After every locked operation that hands out tokens, tokens > 0 implies
    // waiters is empty; tokens that accrued since are counted (and handed on) at the next one.
    private long tokens;
    /** When the current run of minting started: the bucket was last full then, or a period began. */
    private long anchor;
    /** Tokens minted since {@code anchor} and already counted; less than {@code requests}. */
    private long minted;

    private final WaitQueue waiters = new WaitQueue();
    private Clock.@Nullable Scheduled timer;
    /** Identifies the live timer, so one that fires after being cancelled does nothing. */
    private long timerGeneration;

    private @Nullable CompletableFuture<Void> refilled;

    private RateLimiter(long requests, Duration per, int burst, int maxQueued, Clock clock) {
        this.requests = requests;
        this.per = per;
        this.perNanos = per.toNanos();
        this.burst = burst;
        this.maxQueued = maxQueued;
        this.clock = clock;
        this.tokens = burst;
        this.anchor = clock.nanoTime();
    }

    /**
     * A limiter of {@code requests} per {@code per} on {@code clock}, with bursts of up to {@code
     * requests} and callers waiting with no bound on the queue.
     */
    public static RateLimiter of(long requests, Duration per, Clock clock) {
        return builder().rate(requests, per).clock(clock).build();
    }

    /** A builder: the rate is required; burst, queue bound and clock are optional. */
    public static Builder builder() {
        return new Builder();
    }

    /** Takes a token if one is available and nobody is waiting for one; returns whether it did. */
    public boolean tryAcquire() {
        lock.lock();
        try {
            refill(clock.nanoTime());
            if (tokens > 0 && waiters.isEmpty()) {
                tokens--;
                return true;
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes a token, waiting in line for one if none is available; the future completes when the
     * caller has it.
     *
     * <p>Fails at once with {@link OverloadedException} if {@code maxQueued} callers are already
     * waiting. Cancelling the future while it waits leaves the line without spending a token.
     */
    public CompletableFuture<Void> acquire() {
        List<WaitQueue.Waiter> granted;
        CompletableFuture<Void> signal = null;
        CompletableFuture<Void> outcome;
        WaitQueue.Waiter waiter = null;
        lock.lock();
        try {
            long now = clock.nanoTime();
            refill(now);
            // Tokens that accrued since the timer last ran belong to earlier waiters first.
            granted = grantLocked();
            if (tokens > 0) {
                tokens--;
                signal = takeSignalLocked();
                outcome = CompletableFuture.completedFuture(null);
            } else if (waiters.size() >= maxQueued) {
                outcome = CompletableFuture.failedFuture(rejection());
            } else {
                waiter = waiters.add();
                outcome = waiter.future;
            }
            retimeLocked(now);
        } finally {
            lock.unlock();
        }
        deliver(granted, signal);
        if (waiter != null) {
            WaitQueue.Waiter queued = waiter;
            outcome.whenComplete((ignored, failure) -> {
                if (failure != null) {
                    withdraw(queued);
                }
            });
        }
        return outcome;
    }

    /**
     * Puts back a token that was taken but not used (the request was not sent): the longest
     * waiting caller gets it, or it returns to the bucket (never beyond {@code burst}).
     */
    public void refund() {
        List<WaitQueue.Waiter> granted;
        CompletableFuture<Void> signal;
        lock.lock();
        try {
            long now = clock.nanoTime();
            refill(now);
            tokens = Math.min(burst, tokens + 1);
            granted = grantLocked();
            signal = takeSignalLocked();
            retimeLocked(now);
        } finally {
            lock.unlock();
        }
        deliver(granted, signal);
    }

    /** How many tokens a new caller could take now (none while others wait). */
    public int available() {
        lock.lock();
        try {
            refill(clock.nanoTime());
            return waiters.isEmpty() ? (int) tokens : 0;
        } finally {
            lock.unlock();
        }
    }

    /** How many callers are waiting for a token. */
    public int queued() {
        lock.lock();
        try {
            return waiters.size();
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@link #tryAcquire} would succeed now. */
    boolean isFree() {
        return available() > 0;
    }

    /**
     * Completes when a token may be available for {@link #tryAcquire}: at once if one is, else when
     * the next token arrives and nobody waiting takes it.
     *
     * <p>It may complete spuriously (another caller took the token first); callers re-check. While
     * it is pending the limiter keeps a timer for the next token, which stops after firing.
     */
    public CompletionStage<Void> whenAvailable() {
        List<WaitQueue.Waiter> granted;
        CompletableFuture<Void> signal = null;
        CompletableFuture<Void> result;
        lock.lock();
        try {
            long now = clock.nanoTime();
            refill(now);
            granted = grantLocked();
            if (tokens > 0) {
                signal = takeSignalLocked();
                result = CompletableFuture.completedFuture(null);
            } else {
                if (refilled == null) {
                    refilled = new CompletableFuture<>();
                }
                // A copy, so one caller completing or cancelling it cannot affect the others.
                result = refilled.copy();
            }
            retimeLocked(now);
        } finally {
            lock.unlock();
        }
        deliver(granted, signal);
        return result;
    }

    private void withdraw(WaitQueue.Waiter waiter) {
        lock.lock();
        try {
            // Absent if it was already granted a token: deliver() sees the failed completion and
            // refunds the token.
            if (waiters.remove(waiter)) {
                retimeLocked(clock.nanoTime());
            }
        } finally {
            lock.unlock();
        }
    }

    private void onTimer(long generation) {
        List<WaitQueue.Waiter> granted;
        CompletableFuture<Void> signal;
        lock.lock();
        try {
            if (generation != timerGeneration || timer == null) {
                // Cancelled, but it had already started: a newer timer (or none) is in charge.
                return;
            }
            timer = null;
            long now = clock.nanoTime();
            refill(now);
            granted = grantLocked();
            signal = takeSignalLocked();
            retimeLocked(now);
        } finally {
            lock.unlock();
        }
        deliver(granted, signal);
    }

    /** Counts the tokens minted up to {@code now} into the bucket. Under the lock. */
    private void refill(long now) {
        long elapsed = now - anchor;
        if (elapsed <= 0) {
            return;
        }
        if (elapsed >= perNanos) {
            // Whole periods mint exactly `requests` tokens each; moving the anchor by them keeps
            // the arithmetic below within one period, so it cannot overflow after a long idle.
            long periods = elapsed / perNanos;
            anchor += periods * perNanos;
            elapsed -= periods * perNanos;
            long credit = periods > Long.MAX_VALUE / requests ? Long.MAX_VALUE : periods * requests - minted;
            minted = 0;
            add(credit);
        }
        long total = scale(elapsed, requests, perNanos, false);
        add(total - minted);
        minted = total;
        if (tokens >= burst) {
            // A full bucket discards what it mints, so minting starts afresh from now.
            tokens = burst;
            anchor = now;
            minted = 0;
        }
    }

    private void add(long credit) {
        tokens = credit >= burst - tokens ? burst : tokens + credit;
    }

    /** When the next token will be minted. Under the lock, after {@link #refill}. */
    private long nextTokenAt() {
        return anchor + scale(minted + 1, perNanos, requests, true);
    }

    /** Hands available tokens to waiters in order; returns them, to complete outside the lock. */
    private @Nullable List<WaitQueue.Waiter> grantLocked() {
        List<WaitQueue.Waiter> granted = null;
        while (tokens > 0 && !waiters.isEmpty()) {
            if (granted == null) {
                granted = new ArrayList<>(Math.min(waiters.size(), (int) tokens));
            }
            granted.add(waiters.poll());
            tokens--;
        }
        return granted;
    }

    /** The readiness signal, if a token is free for a new caller now; to complete outside the lock. */
    private @Nullable CompletableFuture<Void> takeSignalLocked() {
        if (tokens > 0 && waiters.isEmpty() && refilled != null) {
            CompletableFuture<Void> signal = refilled;
            refilled = null;
            return signal;
        }
        return null;
    }

    /** Keeps exactly one timer, for the next token, while anyone waits for one; none otherwise. */
    private void retimeLocked(long now) {
        boolean needed = !waiters.isEmpty() || refilled != null;
        if (needed && timer == null) {
            long generation = ++timerGeneration;
            Duration delay = Duration.ofNanos(Math.max(1, nextTokenAt() - now));
            timer = clock.schedule(delay, () -> onTimer(generation));
        } else if (!needed && timer != null) {
            timer.cancel();
            timer = null;
            timerGeneration++;
        }
    }

    private void deliver(@Nullable List<WaitQueue.Waiter> granted, @Nullable CompletableFuture<Void> signal) {
        if (granted != null) {
            for (WaitQueue.Waiter waiter : granted) {
                if (!waiter.future.complete(null)) {
                    // The waiter was cancelled as its token arrived: the token goes to the next one.
                    refund();
                }
            }
        }
        if (signal != null) {
            signal.complete(null);
        }
    }

    private OverloadedException rejection() {
        String limit = "rate limit of " + requests + " per " + per + " reached";
        return new OverloadedException(
                maxQueued == 0 ? limit : limit + " and " + maxQueued + " callers already queued");
    }

    /** {@code a * b / c} rounded down or up, exact for non-negative arguments. */
    private static long scale(long a, long b, long c, boolean roundUp) {
        long high = Math.multiplyHigh(a, b);
        long low = a * b;
        if (high == 0 && low >= 0) {
            return roundUp ? Math.ceilDiv(low, c) : low / c;
        }
        // Only for rates whose numbers are both huge; the quotient itself fits (it is at most one
        // period's worth of tokens or nanoseconds).
        BigInteger[] quotient =
                BigInteger.valueOf(a).multiply(BigInteger.valueOf(b)).divideAndRemainder(BigInteger.valueOf(c));
        long whole = quotient[0].longValueExact();
        return roundUp && quotient[1].signum() != 0 ? whole + 1 : whole;
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            refill(clock.nanoTime());
            return "RateLimiter[" + requests + " per " + per + ", burst " + burst + ", " + tokens + " tokens, "
                    + waiters.size() + " queued]";
        } finally {
            lock.unlock();
        }
    }

    /**
     * Builds a {@link RateLimiter}; each setting is validated when set and may be set only once.
     */
    public static final class Builder {
        private long requests;
        private @Nullable Duration per;
        private @Nullable Integer burst;
        private @Nullable Integer maxQueued;
        private @Nullable Clock clock;

        private Builder() {}

        /** Admits {@code requests} every {@code per}, evenly spaced. Required. */
        public Builder rate(long requests, Duration per) {
            Checks.notSetTwice(this.per == null ? null : this.requests + " per " + this.per, "rate");
            Checks.positive(requests, "requests");
            Checks.positive(per, "per");
            if (per.compareTo(Duration.ofNanos(Long.MAX_VALUE)) > 0) {
                throw new IllegalArgumentException(
                        "per must be at most " + Duration.ofNanos(Long.MAX_VALUE) + ", was " + per);
            }
            this.requests = requests;
            this.per = per;
            return this;
        }

        /** The most tokens the bucket holds, so the most requests admitted at once after idling. */
        public Builder burst(int burst) {
            Checks.notSetTwice(this.burst, "burst");
            this.burst = Checks.positive(burst, "burst");
            return this;
        }

        /**
         * The most callers that may wait for a token ({@code 0}: reject at once; the default, {@link
         * Permits#UNBOUNDED_QUEUE}: no bound).
         */
        public Builder maxQueued(int maxQueued) {
            Checks.notSetTwice(this.maxQueued, "maxQueued");
            this.maxQueued = Checks.nonNegative(maxQueued, "maxQueued");
            return this;
        }

        /** The clock tokens are counted and waiters woken on; the system clock by default. */
        public Builder clock(Clock clock) {
            Checks.notSetTwice(this.clock, "clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /**
         * Returns the limiter; {@code burst} defaults to {@code requests} (at most {@link
         * Integer#MAX_VALUE}).
         *
         * @throws IllegalStateException if the rate was not set
         */
        public RateLimiter build() {
            if (per == null) {
                throw new IllegalStateException("rate must be set");
            }
            return new RateLimiter(
                    requests,
                    per,
                    burst != null ? burst : (int) Math.min(requests, Integer.MAX_VALUE),
                    maxQueued != null ? maxQueued : Permits.UNBOUNDED_QUEUE,
                    clock != null ? clock : Clock.system());
        }
    }
}
