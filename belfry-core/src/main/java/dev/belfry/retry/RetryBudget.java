package dev.belfry.retry;

import dev.belfry.Checks;
import dev.belfry.time.Clock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A token budget that caps retries (and hedges, and requeues) at a share of a client's requests, so
 * that retries cannot multiply the load on a failing server.
 *
 * <p>Every request {@link #deposit deposits} {@link Builder#retryRatio retryRatio} tokens; every
 * retry {@link #tryWithdraw withdraws} one token, or is refused. Deposits and withdrawals expire
 * after the {@link Builder#window window}, so the budget follows recent traffic. A reserve of
 * {@link Builder#minRetriesPerSecond minRetriesPerSecond} times the window (in seconds) lets a
 * client with little traffic still retry. The defaults (a 10 s window, 10 retries per second, 20 %
 * of requests) are Finagle's and Tower's: over any 10 s, at most 100 retries plus one for every
 * five requests.
 *
 * <p>The window is kept as ten slots of a tenth of the window each, so a deposit expires between
 * 0.9 and 1.0 windows after it was made (exactly one window after, if made at the start of a
 * slot). Time comes from the injected {@link Clock}; nothing is scheduled.
 *
 * <p>One budget is meant to be shared by every layer that repeats requests of a client. Each layer
 * deposits once per call it receives, so when two layers are stacked (a retry above a hedge, say)
 * give the inner one {@link #withdrawOnly()}: it shares the balance without depositing a second
 * time per request (Finagle does the same for requeues under retries). Thread-safe.
 */
public final class RetryBudget {
    static final int SLOTS = 10;
    /** Tokens are counted in thousandths of a retry, so a 20 % ratio is exact. */
    static final long SCALE = 1000;
    /** Far above any useful reserve, far below overflow when slots are added to it. */
    private static final long RESERVE_CAP = 1L << 60;

    private final @Nullable Ledger ledger;
    private final boolean deposits;

    private RetryBudget(@Nullable Ledger ledger, boolean deposits) {
        this.ledger = ledger;
        this.deposits = deposits;
    }

    /** A budget with the default settings (10 s window, 10 retries per second, 20 %) on {@code clock}. */
    public static RetryBudget of(Clock clock) {
        return builder().clock(clock).build();
    }

    /** A builder for a budget with non-default settings. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A budget that never refuses a retry: retries are then bounded only by the policy's attempts.
     * Use it only where the server is known to cope with every client retrying at once.
     */
    public static RetryBudget unlimited() {
        return new RetryBudget(null, false);
    }

    /** Records a request: adds {@code retryRatio} tokens, valid for one window. */
    public void deposit() {
        if (ledger != null && deposits) {
            ledger.deposit();
        }
    }

    /** Takes one retry's token if the balance allows it and returns whether it did. */
    public boolean tryWithdraw() {
        return ledger == null || ledger.tryWithdraw();
    }

    /** How many whole retries the balance allows now (including the reserve). */
    public long remaining() {
        return ledger == null ? Long.MAX_VALUE : ledger.balance() / SCALE;
    }

    /**
     * A view of this budget that shares its balance but whose {@link #deposit} does nothing: for a
     * layer stacked under another layer that already deposits for the same requests.
     */
    public RetryBudget withdrawOnly() {
        return deposits ? new RetryBudget(ledger, false) : this;
    }

    @Override
    public String toString() {
        if (ledger == null) {
            return "RetryBudget.unlimited()";
        }
        return "RetryBudget[" + ledger + (deposits ? "" : ", withdrawOnly") + "]";
    }

    /** The settings of a {@link RetryBudget}; each may be set once. */
    public static final class Builder {
        private @Nullable Duration window;
        private @Nullable Integer minRetriesPerSecond;
        private @Nullable Double retryRatio;
        private @Nullable Clock clock;

        private Builder() {}

        /** How long deposits and withdrawals count (default 10 s). */
        public Builder window(Duration window) {
            Checks.notSetTwice(this.window, "window");
            this.window = Checks.positive(window, "window");
            return this;
        }

        /** Retries per second allowed even with no requests to pay for them (default 10; 0 for none). */
        public Builder minRetriesPerSecond(int minRetriesPerSecond) {
            Checks.notSetTwice(this.minRetriesPerSecond, "minRetriesPerSecond");
            this.minRetriesPerSecond = Checks.nonNegative(minRetriesPerSecond, "minRetriesPerSecond");
            return this;
        }

        /**
         * Retries allowed per request, on top of the reserve: 0.2 (the default) allows one retry for
         * every five requests; from 0 to 1000.
         */
        public Builder retryRatio(double retryRatio) {
            Checks.notSetTwice(this.retryRatio, "retryRatio");
            this.retryRatio = Checks.inRange(retryRatio, 0, 1000, "retryRatio");
            return this;
        }

        /** The clock the window is timed on; default the system clock. Tests pass a manual clock. */
        public Builder clock(Clock clock) {
            Checks.notSetTwice(this.clock, "clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /** The budget. */
        public RetryBudget build() {
            Clock c = clock != null ? clock : Clock.system();
            Duration w = window != null ? window : Duration.ofSeconds(10);
            int min = minRetriesPerSecond != null ? minRetriesPerSecond : 10;
            double ratio = retryRatio != null ? retryRatio : 0.2;
            if (w.toNanos() < SLOTS) {
                throw new IllegalArgumentException("window must be at least " + SLOTS + " ns, was " + w);
            }
            return new RetryBudget(new Ledger(c, w, min, ratio), true);
        }
    }

    /**
     * The shared balance: a reserve plus ten expiring slots of deposits and withdrawals.
     *
     * <p>Deposits, one per request, take no lock: while the clock stays within the current slot a
     * deposit is one compare-and-set on that slot. Moving to a new slot, withdrawing and reading the
     * balance take the lock, so withdrawals never overdraw (deposits only raise the balance a
     * withdrawal checked). A deposit that read the current slot just before another thread moved on
     * lands in the slot it read, which is still inside the window.
     */
    static final class Ledger {
        private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

        private final Clock clock;
        private final Duration window;
        private final int minRetriesPerSecond;
        private final double retryRatio;
        private final long slotNanos;
        private final long depositAmount;
        private final long reserve;
        private final long origin;
        /** Updated atomically through {@link #SLOT}; cleared under the lock. */
        private final long[] slots = new long[SLOTS];
        /** Index of the slot `now` falls in, from origin; written under the lock. */
        private volatile long currentSlot;

        Ledger(Clock clock, Duration window, int minRetriesPerSecond, double retryRatio) {
            this.clock = clock;
            this.window = window;
            this.minRetriesPerSecond = minRetriesPerSecond;
            this.retryRatio = retryRatio;
            this.slotNanos = window.toNanos() / SLOTS;
            this.depositAmount = Math.round(retryRatio * SCALE);
            // min/s * window in seconds, in thousandths; computed in double once, saturating.
            double reserveTokens = (double) minRetriesPerSecond * window.toNanos() / 1e9 * SCALE;
            this.reserve = reserveTokens >= RESERVE_CAP ? RESERVE_CAP : (long) reserveTokens;
            this.origin = clock.nanoTime();
        }

        void deposit() {
            long now = clock.nanoTime();
            long slot = currentSlot;
            // Still inside the current slot? A multiplication, where finding the slot divides.
            long offset = now - origin - slot * slotNanos;
            if (offset < 0 || offset >= slotNanos) {
                synchronized (this) {
                    advance(slotAt(now));
                    slot = currentSlot;
                }
            }
            add(index(slot), depositAmount);
        }

        synchronized boolean tryWithdraw() {
            advance(slotAt(clock.nanoTime()));
            if (sum() < SCALE) {
                return false;
            }
            add(index(currentSlot), -SCALE);
            return true;
        }

        synchronized long balance() {
            advance(slotAt(clock.nanoTime()));
            return Math.max(0, sum());
        }

        private void add(int index, long amount) {
            long before;
            do {
                before = (long) SLOT.getVolatile(slots, index);
            } while (!SLOT.compareAndSet(slots, index, before, saturatingAdd(before, amount)));
        }

        private long sum() {
            long total = reserve;
            for (int i = 0; i < SLOTS; i++) {
                total = saturatingAdd(total, (long) SLOT.getVolatile(slots, i));
            }
            return total;
        }

        private long slotAt(long now) {
            return Math.floorDiv(now - origin, slotNanos);
        }

        private static int index(long slot) {
            return (int) Math.floorMod(slot, (long) SLOTS);
        }

        /** Clears the slots that fell out of the window since the last move; call under the lock. */
        private void advance(long slot) {
            long current = currentSlot;
            if (slot > current) {
                long stale = Math.min(slot - current, SLOTS);
                for (long i = 1; i <= stale; i++) {
                    SLOT.setVolatile(slots, index(current + i), 0L);
                }
                currentSlot = slot;
            }
        }

        private static long saturatingAdd(long a, long b) {
            long sum = a + b;
            // Overflow only if both have the same sign and the sum's sign differs.
            if (((a ^ sum) & (b ^ sum)) < 0) {
                return a > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
            }
            return sum;
        }

        @Override
        public String toString() {
            return "window=" + window + ", minRetriesPerSecond=" + minRetriesPerSecond + ", retryRatio=" + retryRatio;
        }
    }
}
