package dev.belfry.http.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.test.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DeadlinesTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    private final ManualClock clock = new ManualClock();
    // The clock's timer runs its hop on the test thread: the "event loop" is this thread.
    private final Deadlines deadlines = new Deadlines(clock, Runnable::run);

    /** A deadline that records when it expired. */
    private final class Recorded extends Deadlines.Deadline {
        final int id;
        final List<Long> expiries = new ArrayList<>();

        Recorded(int id) {
            this.id = id;
        }

        @Override
        void expired() {
            expiries.add(clock.nanoTime());
        }

        @Override
        public String toString() {
            return "deadline " + id;
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void everyArmedDeadlineExpiresExactlyOnTimeAndTheClockHoldsOneTimer(long seed) {
        var random = new SplittableRandom(seed);
        List<Recorded> all = new ArrayList<>();
        Map<Recorded, Long> expected = new HashMap<>(); // armed ones: when they must expire
        for (int i = 0; i < 300; i++) {
            all.add(new Recorded(i));
        }
        for (int step = 0; step < 2_000; step++) {
            Recorded d = all.get(random.nextInt(all.size()));
            int action = random.nextInt(10);
            if (action < 6) {
                long delay = (1 + random.nextInt(500)) * MS;
                deadlines.arm(d, delay);
                expected.put(d, clock.nanoTime() + delay);
            } else if (action < 9) {
                deadlines.disarm(d);
                expected.remove(d);
            } else {
                tick(all, expected);
            }
            assertThat(clock.pendingTasks()).isLessThanOrEqualTo(1);
            assertThat(deadlines.armed()).isEqualTo(expected.size());
            for (Recorded r : all) {
                assertThat(r.armed()).isEqualTo(expected.containsKey(r));
                assertThat(r.expiries).as("%s expired early", r).isEmpty();
            }
        }
        // Whatever is left expires on time, one millisecond at a time.
        for (int i = 0; i < 501 && !expected.isEmpty(); i++) {
            tick(all, expected);
            for (Recorded r : all) {
                assertThat(r.expiries).as("%s expired early", r).isEmpty();
            }
        }
        assertThat(expected).isEmpty();
        assertThat(deadlines.armed()).isZero();
        assertThat(clock.pendingTasks()).isZero();
    }

    /** Moves the clock 1 ms: each deadline due by then expired exactly at its time, once. */
    private void tick(List<Recorded> all, Map<Recorded, Long> expected) {
        clock.advance(Duration.ofNanos(MS));
        for (Recorded r : all) {
            Long at = expected.get(r);
            if (at != null && at <= clock.nanoTime()) {
                assertThat(r.expiries).as("%s", r).containsExactly(at);
                r.expiries.clear();
                expected.remove(r);
            }
        }
    }

    @Test
    void disarmingLeavesTheTimerWhichThenFindsNothingAndIsNotSetAgain() {
        long start = clock.nanoTime();
        var first = new Recorded(1);
        deadlines.arm(first, 5 * MS);
        assertThat(clock.nextDelay()).isEqualTo(Duration.ofMillis(5));
        deadlines.disarm(first);
        assertThat(clock.pendingTasks()).isEqualTo(1); // lazily left

        // A later deadline does not move the timer: the early one re-sets it when it fires.
        var second = new Recorded(2);
        deadlines.arm(second, 20 * MS);
        assertThat(clock.pendingTasks()).isEqualTo(1);
        assertThat(clock.nextDelay()).isEqualTo(Duration.ofMillis(5));
        clock.advance(Duration.ofMillis(5));
        assertThat(second.expiries).isEmpty();
        assertThat(clock.nextDelay()).isEqualTo(Duration.ofMillis(15));

        // An earlier one replaces the timer.
        var third = new Recorded(3);
        deadlines.arm(third, 2 * MS);
        assertThat(clock.pendingTasks()).isEqualTo(1);
        assertThat(clock.nextDelay()).isEqualTo(Duration.ofMillis(2));
        clock.advance(Duration.ofMillis(2));
        assertThat(third.expiries).containsExactly(start + 7 * MS);
        clock.advance(Duration.ofMillis(13));
        assertThat(second.expiries).containsExactly(start + 20 * MS);
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void anExpiryMayArmAgainAndCloseCancelsEverything() {
        var repeating = new Deadlines.Deadline() {
            int fired;

            @Override
            void expired() {
                fired++;
                deadlines.arm(this, 10 * MS);
            }
        };
        deadlines.arm(repeating, 10 * MS);
        clock.advance(Duration.ofMillis(35));
        assertThat(repeating.fired).isEqualTo(3);
        assertThat(repeating.armed()).isTrue();
        assertThat(clock.nextDelay()).isEqualTo(Duration.ofMillis(5));

        deadlines.close();
        assertThat(repeating.armed()).isFalse();
        assertThat(clock.pendingTasks()).isZero();
        deadlines.arm(repeating, MS); // the connection is gone: nothing is timed any more
        assertThat(clock.pendingTasks()).isZero();
        clock.advance(Duration.ofMillis(100));
        assertThat(repeating.fired).isEqualTo(3);
    }
}
