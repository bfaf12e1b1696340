package dev.belfry.grpc.bench;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/** Call latencies in nanoseconds, kept whole (up to 8 Mi of them) for exact percentiles. Thread-safe. */
final class Latencies {
    private static final int MAX_SAMPLES = 1 << 23;

    private final long[] samples = new long[MAX_SAMPLES];
    private final AtomicInteger count = new AtomicInteger();

    void add(long nanos) {
        int slot = count.getAndIncrement();
        if (slot < MAX_SAMPLES) {
            samples[slot] = nanos;
        }
    }

    /** The latency percentile {@code p} (0 to 100), in milliseconds; NaN if there is none. */
    double percentileMillis(double p) {
        int n = Math.min(count.get(), MAX_SAMPLES);
        if (n == 0) {
            return Double.NaN;
        }
        long[] sorted = Arrays.copyOf(samples, n);
        Arrays.sort(sorted);
        int index = (int) Math.min(n - 1, Math.max(0, Math.ceil(p / 100.0 * n) - 1));
        return sorted[index] / 1e6;
    }
}
