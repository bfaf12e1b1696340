package dev.belfry.hedge;

import java.util.Arrays;
import java.util.OptionalLong;

/**
 * Recent latencies in two small log-linear histograms that rotate every period: percentiles are
 * read from the last complete period while the current one fills (Tower's rotating histogram).
 *
 * <p>Buckets keep three significant bits (values within 12.5 % share a bucket) over the whole range
 * of {@code long} nanoseconds, in 488 counters. A percentile is reported as its bucket's upper
 * bound, clamped to the largest value recorded, so identical latencies read back exactly.
 * Thread-safe.
 */
final class LatencyHistogram {
    static final int BUCKETS = 8 + 60 * 8;

    private final long periodNanos;
    private long lastRotation; // guarded by this
    private Counts read = new Counts(); // guarded by this
    private Counts write = new Counts(); // guarded by this

    LatencyHistogram(long periodNanos, long now) {
        this.periodNanos = periodNanos;
        this.lastRotation = now;
    }

    synchronized void record(long latencyNanos, long now) {
        rotate(now);
        write.add(Math.max(0, latencyNanos));
    }

    /** The {@code percentile} of the last complete period, if it holds at least {@code minSamples}. */
    synchronized OptionalLong percentile(double percentile, int minSamples, long now) {
        rotate(now);
        if (read.count < minSamples || read.count == 0) {
            return OptionalLong.empty();
        }
        long rank = Math.max(1, (long) Math.ceil(percentile / 100 * read.count));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += read.buckets[i];
            if (seen >= rank) {
                return OptionalLong.of(Math.max(read.min, Math.min(read.max, upperBound(i))));
            }
        }
        return OptionalLong.of(read.max);
    }

    private void rotate(long now) {
        long elapsed = now - lastRotation;
        if (elapsed < periodNanos) {
            return;
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

    /** One period's counts. */
    private static final class Counts {
        final long[] buckets = new long[BUCKETS];
        long count;
        long min = Long.MAX_VALUE;
        long max;

        void add(long value) {
            buckets[bucketOf(value)]++;
            count++;
            min = Math.min(min, value);
            max = Math.max(max, value);
        }

        @Override
        public String toString() {
            return "Counts[" + count + ", "
                    + Arrays.stream(buckets).filter(c -> c > 0).count() + " buckets]";
        }
    }
}
