package dev.belfry.breaker;

/** The recent outcomes a failure rate is computed over. Not thread-safe: the breaker's lock guards it. */
interface OutcomeWindow {

    /** Records one call's outcome at {@code now}. */
    void record(boolean failure, long now);

    /** The calls within the window at {@code now}. */
    int calls(long now);

    /** The failed calls within the window at {@code now}. */
    int failures(long now);

    /** Forgets everything. */
    void reset();

    /** Whether recording a success now would change nothing (a full window of successes). */
    boolean quiet();

    /** The last {@code size} calls. */
    static OutcomeWindow ofCalls(int size) {
        return new CountWindow(size);
    }

    /** The calls of the last {@code windowNanos}, in ten slots of a tenth each. */
    static OutcomeWindow ofTime(long windowNanos, long origin) {
        return new TimeWindow(windowNanos, origin);
    }

    /** A ring of the last N outcomes. */
    final class CountWindow implements OutcomeWindow {
        private final boolean[] outcomes;
        private int next;
        private int calls;
        private int failures;

        CountWindow(int size) {
            outcomes = new boolean[size];
        }

        @Override
        public void record(boolean failure, long now) {
            if (calls == outcomes.length) {
                if (outcomes[next]) {
                    failures--;
                }
            } else {
                calls++;
            }
            outcomes[next] = failure;
            if (failure) {
                failures++;
            }
            next = (next + 1) % outcomes.length;
        }

        @Override
        public int calls(long now) {
            return calls;
        }

        @Override
        public int failures(long now) {
            return failures;
        }

        @Override
        public boolean quiet() {
            // All slots hold successes, so which one the next outcome replaces does not matter.
            return calls == outcomes.length && failures == 0;
        }

        @Override
        public void reset() {
            java.util.Arrays.fill(outcomes, false);
            next = 0;
            calls = 0;
            failures = 0;
        }
    }

    /** Ten slots that expire as time moves on: an outcome counts for 0.9 to 1 window. */
    final class TimeWindow implements OutcomeWindow {
        private static final int SLOTS = 10;
        private final long slotNanos;
        private final long origin;
        private final int[] calls = new int[SLOTS];
        private final int[] failures = new int[SLOTS];
        private long current;

        TimeWindow(long windowNanos, long origin) {
            this.slotNanos = Math.max(1, windowNanos / SLOTS);
            this.origin = origin;
        }

        private int advance(long now) {
            long slot = Math.floorDiv(now - origin, slotNanos);
            if (slot > current) {
                long stale = Math.min(slot - current, SLOTS);
                for (long i = 1; i <= stale; i++) {
                    int index = (int) Math.floorMod(current + i, (long) SLOTS);
                    calls[index] = 0;
                    failures[index] = 0;
                }
                current = slot;
            }
            return (int) Math.floorMod(current, (long) SLOTS);
        }

        @Override
        public void record(boolean failure, long now) {
            int slot = advance(now);
            calls[slot]++;
            if (failure) {
                failures[slot]++;
            }
        }

        @Override
        public int calls(long now) {
            advance(now);
            int total = 0;
            for (int count : calls) {
                total += count;
            }
            return total;
        }

        @Override
        public int failures(long now) {
            advance(now);
            int total = 0;
            for (int count : failures) {
                total += count;
            }
            return total;
        }

        @Override
        public boolean quiet() {
            return false; // every success counts towards the calls of its slot
        }

        @Override
        public void reset() {
            java.util.Arrays.fill(calls, 0);
            java.util.Arrays.fill(failures, 0);
        }
    }
}
