package dev.belfry.time;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The system clock's timing wheel, on real time: bounded waits, short delays. */
class WheelTimerTest {
    private final WheelTimer timer = new WheelTimer("wheel-timer-test", System::nanoTime);

    @Test
    void runsTasksInDeadlineOrderAndNeverEarly() throws InterruptedException {
        int count = 40;
        CountDownLatch done = new CountDownLatch(count);
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger early = new AtomicInteger();
        long start = System.nanoTime();
        // Scheduled in reverse, 3 ms apart: they must run in deadline order. The first is due 100 ms
        // out, so that all are scheduled before any is due even on a loaded machine (a task
        // scheduled after a later one ran cannot run before it).
        for (int i = count - 1; i >= 0; i--) {
            int index = i;
            long deadline = start + TimeUnit.MILLISECONDS.toNanos(3L * i + 100);
            timer.schedule(deadline, () -> {
                if (System.nanoTime() < deadline) {
                    early.incrementAndGet();
                }
                order.add(index);
                done.countDown();
            });
        }
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(early).hasValue(0);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            expected.add(i);
        }
        assertThat(order).isEqualTo(expected);
    }

    @Test
    void aCancelledTaskNeverRuns() throws InterruptedException {
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch marker = new CountDownLatch(1);
        long now = System.nanoTime();
        // Due a second out, so even a thread descheduled for a long while on a loaded machine
        // cancels it before it is due; the marker after it shows the wheel went past its tick.
        Clock.Scheduled cancelled = timer.schedule(now + TimeUnit.SECONDS.toNanos(1), ran::incrementAndGet);
        timer.schedule(now + TimeUnit.MILLISECONDS.toNanos(1100), marker::countDown);
        assertThat(cancelled.cancel()).isTrue();
        assertThat(cancelled.cancel()).as("second cancel is a no-op").isFalse();
        assertThat(marker.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ran).hasValue(0);
    }

    @Test
    void cancellingAfterTheTaskRanReportsFalse() throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(1);
        Clock.Scheduled scheduled = timer.schedule(System.nanoTime(), ran::countDown);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(scheduled.cancel()).isFalse();
    }

    @Test
    void zeroDelayTasksRunOnTheTimerThreadNotTheCaller() throws InterruptedException {
        AtomicReference<String> thread = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        timer.schedule(System.nanoTime() - 1_000, () -> {
            thread.set(Thread.currentThread().getName());
            ran.countDown();
        });
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(thread.get()).isEqualTo("wheel-timer-test");
    }

    @Test
    void aLongDelayLapsTheWheelWithoutFiringEarly() throws InterruptedException {
        // 1.2 s is more than one turn of the 1024-tick wheel.
        CountDownLatch ran = new CountDownLatch(1);
        AtomicLong firedAt = new AtomicLong();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_200);
        timer.schedule(deadline, () -> {
            firedAt.set(System.nanoTime());
            ran.countDown();
        });
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(firedAt.get()).isGreaterThanOrEqualTo(deadline);
    }

    @Test
    void aFailingTaskDoesNotStopLaterOnes() throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(1);
        long now = System.nanoTime();
        timer.schedule(now, () -> {
            throw new IllegalStateException("task failure, logged by the timer on purpose");
        });
        timer.schedule(now + TimeUnit.MILLISECONDS.toNanos(2), ran::countDown);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void manyThreadsScheduleAndCancelConcurrently() throws Exception {
        int threads = 4;
        int perThread = 20_000;
        AtomicInteger ranCancelled = new AtomicInteger();
        CountDownLatch kept = new CountDownLatch(threads * perThread / 10);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        long now = System.nanoTime();
                        if (i % 10 == 0) {
                            timer.schedule(now + TimeUnit.MILLISECONDS.toNanos(1 + i % 20), kept::countDown);
                        } else {
                            // Far enough out that a preempted thread still cancels before it is due.
                            long deadline = now + TimeUnit.MILLISECONDS.toNanos(2_000 + i % 20);
                            Clock.Scheduled scheduled = timer.schedule(deadline, ranCancelled::incrementAndGet);
                            if (!scheduled.cancel()) {
                                throw new AssertionError("a task 2 s out could not be cancelled at once");
                            }
                        }
                    }
                }));
            }
            for (Future<?> future : futures) {
                future.get(30, TimeUnit.SECONDS);
            }
            assertThat(kept.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(ranCancelled).hasValue(0);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aBlockedTaskOnTheSystemClockDelaysNoOtherTimer() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blockedDone = new CountDownLatch(1);
        AtomicReference<Boolean> virtual = new AtomicReference<>();
        Clock.system().schedule(Duration.ofMillis(1), () -> {
            virtual.set(Thread.currentThread().isVirtual());
            try {
                // Blocks until the later timer runs: it could not, if tasks shared one thread.
                if (release.await(10, TimeUnit.SECONDS)) {
                    blockedDone.countDown();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Clock.system().schedule(Duration.ofMillis(5), release::countDown);
        assertThat(blockedDone.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(virtual.get()).isTrue();
    }

    @Test
    void theSystemClockSchedulesThroughTheWheel() throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(1);
        AtomicReference<String> thread = new AtomicReference<>();
        Clock.system().schedule(Duration.ofMillis(2), () -> {
            thread.set(Thread.currentThread().getName());
            ran.countDown();
        });
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(thread.get()).isEqualTo("belfry-timer-task");
        // A huge delay must neither overflow nor fire.
        assertThat(Clock.system()
                        .schedule(Duration.ofDays(365 * 1_000L), () -> {})
                        .cancel())
                .isTrue();
    }
}
