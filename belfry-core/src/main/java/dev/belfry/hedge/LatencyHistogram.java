package dev.belfry.hedge;

import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.jspecify.annotations.Nullable;

/**
 * Recent latencies in two small log-linear histograms that rotate every period: percentiles are
 * read from the last complete period while the current one fills (Tower's rotating histogram).
 *
 * <p>Buckets keep three significant bits (values within 12.5 % share a bucket) over the whole range
 * of {@code long} nanoseconds, in 488 counters. A percentile is reported as its bucket's upper
 * bound, clamped to the largest value recorded, so identical latencies read back exactly.
 * Thread-safe.
 *
 * <p>Public for hedging built outside this package (the warm gRPC channel's hedged calls); {@link
 * Hedge} is its main user.
 */
public final class LatencyHistogram {
    static final int BUCKETS = 8 + 60 * 8;

    private final long periodNanos;
    // Recording takes no lock: counters are atomic, and only a rotation (once a period) locks.
    private volatile long lastRotation;
    private volatile Counts read = new Counts();
    private volatile Counts write = new Counts();

    /** A histogram rotated every {@code periodNanos}, its first period starting at {@code now}. */
    public LatencyHistogram(long periodNanos, long now) {
        if (periodNanos <= 0) {
            throw new IllegalArgumentException("periodNanos must be positive, was " + periodNanos);
        }
        this.periodNanos = periodNanos;
        this.lastRotation = now;
    }

    /** Adds one latency, rotating first if a period has passed since the last rotation. */
    public void record(long latencyNanos, long now) {
        rotate(now);
        // A record racing a rotation may land in the period just closed: one sample, harmless.
        write.add(Math.max(0, latencyNanos));
    }

    /** The {@code percentile} of the last complete period, if it holds at least {@code minSamples}. */
    public OptionalLong percentile(double percentile, int minSamples, long now) {
        rotate(now);
        return read.percentile(percentile, minSamples);
    }

    private void rotate(long now) {
        if (now - lastRotation < periodNanos) {
            return;
        }
        synchronized (this) {
            long elapsed = now - lastRotation;
            if (elapsed < periodNanos) {
                return; // another thread rotated first
            }
            if (elapsed >= 2 * periodNanos) {
                // Idle for more than a period: what was being written is stale too.
                read = new Counts();
            } else {
                read = write;
            }
            write = new Counts();
            lastRotation = now - elapsed % periodNanos;
        }
    }

    static int bucketOf(long value) {
        if (value < 8) {
            return (int) Math.max(0, value);
        }
        int exponent = 63 - Long.numberOfLeadingZeros(value);
        int sub = (int) (value >>> (exponent - 3)) & 7;
        return 8 + (exponent - 3) * 8 + sub;
    }

    static long upperBound(int bucket) {
        if (bucket < 8) {
            return bucket;
        }
        int exponent = (bucket - 8) / 8 + 3;
        int sub = (bucket - 8) % 8;
        long next = (8L + sub + 1) << (exponent - 3);
        return next <= 0 ? Long.MAX_VALUE : next - 1;
    }

    /** One period's counts, updated without locks; its percentile is computed once per count. */
    private static final class Counts {
        final AtomicLongArray buckets = new AtomicLongArray(BUCKETS);
        final AtomicLong count = new AtomicLong();
        final AtomicLong min = new AtomicLong(Long.MAX_VALUE);
        final AtomicLong max = new AtomicLong();
        private volatile @Nullable Answer answer;

        void add(long value) {
            buckets.incrementAndGet(bucketOf(value));
            min.accumulateAndGet(value, Math::min);
            max.accumulateAndGet(value, Math::max);
            count.incrementAndGet();
        }

        OptionalLong percentile(double percentile, int minSamples) {
            long total = count.get();
            Answer last = answer;
            if (last != null
                    && last.count() == total
                    && last.percentile() == percentile
                    && last.minSamples() == minSamples) {
                return last.value();
            }
            OptionalLong value = compute(percentile, minSamples, total);
            answer = new Answer(percentile, minSamples, total, value);
            return value;
        }

        private OptionalLong compute(double percentile, int minSamples, long total) {
            if (total < minSamples || total == 0) {
                return OptionalLong.empty();
            }
            long rank = Math.max(1, (long) Math.ceil(percentile / 100 * total));
            long lowest = min.get();
            long highest = max.get();
            long seen = 0;
            for (int i = 0; i < BUCKETS; i++) {
                seen += buckets.get(i);
                if (seen >= rank) {
                    return OptionalLong.of(Math.max(lowest, Math.min(highest, upperBound(i))));
                }
            }
            return OptionalLong.of(highest);
        }

        @Override
        public String toString() {
            long used = 0;
            for (int i = 0; i < BUCKETS; i++) {
                used += buckets.get(i) > 0 ? 1 : 0;
            }
            return "Counts[" + count.get() + ", " + used + " buckets]";
        }
    }

    /** A percentile read, kept while the period's count stays the same. */
    private record Answer(double percentile, int minSamples, long count, OptionalLong value) {}
}
