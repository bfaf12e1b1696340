package dev.belfry.hedge;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {
    private static final long PERIOD = Duration.ofSeconds(10).toNanos();
    private static final long MS = 1_000_000;

    @Test
    void everyValueFallsInABucketWhoseBoundsHoldItWithinAnEighth() {
        long[] values = {0, 1, 7, 8, 9, 15, 16, 100, 1_000, 123_456_789, Long.MAX_VALUE / 3, Long.MAX_VALUE};
        for (long value : values) {
            int bucket = LatencyHistogram.bucketOf(value);
            assertThat(bucket).isBetween(0, LatencyHistogram.BUCKETS - 1);
            long upper = LatencyHistogram.upperBound(bucket);
            long lower = bucket == 0 ? 0 : LatencyHistogram.upperBound(bucket - 1) + 1;
            assertThat(value).as("value %d in bucket %d", value, bucket).isBetween(lower, upper);
            assertThat((double) (upper - lower)).isLessThanOrEqualTo(Math.max(1, lower / 8.0));
        }
    }

    @Test
    void percentilesComeFromTheLastCompletePeriodWithinAnEighth() {
        long start = 5_000;
        LatencyHistogram histogram = new LatencyHistogram(PERIOD, start);
        for (int ms = 1; ms <= 100; ms++) {
            histogram.record(ms * MS, start + 1);
        }
        assertThat(histogram.percentile(90, 1, start + PERIOD - 1)).isEmpty();
        OptionalLong p90 = histogram.percentile(90, 1, start + PERIOD);
        assertThat(p90).isPresent();
        assertThat(p90.getAsLong()).isBetween(90 * MS, 90 * MS + 90 * MS / 8);
        assertThat(histogram.percentile(99.9, 1, start + PERIOD).getAsLong()).isEqualTo(100 * MS);
        assertThat(histogram.percentile(0.1, 1, start + PERIOD).getAsLong()).isBetween(MS, MS + MS / 8);
        assertThat(histogram.percentile(90, 101, start + PERIOD))
                .as("too few samples")
                .isEmpty();
    }

    @Test
    void aPeriodOfIdenticalLatenciesReadsBackExactly() {
        LatencyHistogram histogram = new LatencyHistogram(PERIOD, 0);
        for (int i = 0; i < 5; i++) {
            histogram.record(100 * MS, 1);
        }
        assertThat(histogram.percentile(50, 5, PERIOD)).hasValue(100 * MS);
    }

    @Test
    void eachPeriodReplacesThePreviousAndAnIdlePeriodClearsBoth() {
        LatencyHistogram histogram = new LatencyHistogram(PERIOD, 0);
        histogram.record(10 * MS, 1);
        histogram.record(50 * MS, PERIOD + 1);
        assertThat(histogram.percentile(50, 1, PERIOD + 2)).hasValue(10 * MS);
        assertThat(histogram.percentile(50, 1, 2 * PERIOD)).hasValue(50 * MS);
        assertThat(histogram.percentile(50, 1, 4 * PERIOD)).isEmpty();
    }
}
