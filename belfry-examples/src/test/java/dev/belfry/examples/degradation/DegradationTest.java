package dev.belfry.examples.degradation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.examples.degradation.Degradation.Figures;
import dev.belfry.examples.degradation.Degradation.Kind;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The degradation scenario with a real PostgreSQL stopped for 12 s under 60 requests a second:
 * the bounds a reference service must keep. The bounds are loose enough for a machine shared with
 * other builds (latencies of hundreds of milliseconds even for cached reads were seen there); the
 * figures in docs/example.md come from the command.
 */
class DegradationTest {
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void theServiceFailsFastServesCachedReadsAndRecoversWhenTheDatabaseReturns() throws Exception {
        Figures figures = Degradation.run(60, Duration.ofSeconds(4), Duration.ofSeconds(12), Duration.ofSeconds(30));
        System.out.print(figures.table());

        assertThat(Figures.errorRate(figures.of(Kind.CACHED_HTTP, 0, figures.stoppedAt())))
                .as("before the outage")
                .isZero();
        assertThat(figures.circuitOpenAt() - figures.stoppedAt())
                .as("the circuit opens within 5 s of the database going")
                .isBetween(0L, TimeUnit.SECONDS.toNanos(5));
        assertThat(figures.notReadyAt()).as("/ready went 503").isPositive();
        assertThat(figures.grpcNotServingAt())
                .as("gRPC health went NOT_SERVING")
                .isPositive();

        var uncached = figures.of(Kind.UNCACHED_HTTP, figures.circuitOpenAt(), figures.resumedAt());
        var grpc = figures.of(Kind.GRPC_LIST, figures.circuitOpenAt(), figures.resumedAt());
        assertThat(uncached).isNotEmpty();
        assertThat(Figures.errorRate(uncached))
                .as("uncached reads fail while it is down")
                .isGreaterThan(0.5);
        assertThat(Figures.errorRate(grpc))
                .as("gRPC reads fail while it is down")
                .isGreaterThan(0.5);
        assertThat(Figures.latency(uncached, 0.5))
                .as("most fail fast once the circuit is open")
                .isLessThan(Duration.ofSeconds(1));
        assertThat(Figures.latency(figures.duringOutage(Kind.UNCACHED_HTTP), 1))
                .as("none waits much longer than three 1 s connection waits")
                .isLessThan(Duration.ofSeconds(6));
        assertThat(figures.maxInFlightDuringOutage())
                .as("no pile-up: at most about 6 s of load in flight, not the whole outage's")
                .isLessThan(60 * 6);

        assertThat(Figures.errorRate(figures.duringOutage(Kind.CACHED_HTTP)))
                .as("cached reads keep being served")
                .isZero();

        assertThat(figures.readyAgainAt()).as("/ready back to 200").isPositive();
        assertThat(figures.grpcServingAgainAt()).as("gRPC health SERVING again").isPositive();
        assertThat(figures.recoveredAt()).isPositive();
        assertThat(figures.recoveredAt() - figures.resumedAt())
                .as("recovered within 10 s of the database accepting connections again")
                .isLessThan(TimeUnit.SECONDS.toNanos(10));
        assertThat(Figures.errorRate(figures.of(Kind.UNCACHED_HTTP, figures.recoveredAt(), figures.endedAt())))
                .isZero();
    }
}
