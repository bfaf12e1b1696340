package dev.belfry.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Readiness;
import dev.belfry.test.ManualClock;
import dev.belfry.test.VerifyAfterEach;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Growth of the member count while members are saturated, on a {@link ManualClock}: members here
 * take one request at a time (busy while it runs), like HTTP/1.1 connections.
 */
@ExtendWith(VerifyAfterEach.class)
class WarmPoolGrowthTest {
    private static final Duration NANO = Duration.ofNanos(1);
    private static final Duration SHRINK = Duration.ofSeconds(60);

    final ManualClock clock = new ManualClock();
    private final List<Attempt> attempts = new ArrayList<>();
    private final List<String> notices = new ArrayList<>();
    private @Nullable WarmPool<String, String, String> pool;

    @AfterEach
    void closeThePool() {
        if (pool != null) {
            pool.close();
            for (Attempt attempt : attempts) {
                if (attempt.member != null) {
                    assertThat(attempt.member.closed)
                            .as("member %s closed", attempt.member.id)
                            .isTrue();
                }
            }
        }
    }

    private WarmPool<String, String, String> start(@Nullable Integer maxMembers) {
        WarmPool.Builder<String, String, String> builder = WarmPool.<String, String, String>builder(
                        "users", AddressSource.of(List.of("a")), address -> {
                            Attempt attempt = new Attempt(attempts.size());
                            attempts.add(attempt);
                            return attempt.future;
                        })
                .want(1)
                .healthyMin(1)
                .warnings(null, null)
                .clock(clock)
                .random(new SplittableRandom(3))
                .log(new PoolLog() {
                    @Override
                    public void warn(String message) {}

                    @Override
                    public void info(String message) {
                        notices.add(message);
                    }
                });
        if (maxMembers != null) {
            builder.growth(maxMembers, SHRINK);
        }
        pool = builder.build();
        return pool;
    }

    private OneAtATime healthy(int attempt) {
        OneAtATime member = attempts.get(attempt).connect();
        member.probe.complete(null);
        return member;
    }

    /** Answers every running request, and those the pool hands on to freed members, until none runs. */
    private void finishAll() {
        boolean any = true;
        while (any) {
            any = false;
            for (Attempt attempt : attempts) {
                OneAtATime member = attempt.member;
                if (member != null && member.readiness() == Readiness.BUSY) {
                    member.finish();
                    any = true;
                }
            }
        }
    }

    @Test
    void withoutGrowthABusyPoolOnlyQueues() {
        WarmPool<String, String, String> users = start(null);
        OneAtATime first = healthy(0);
        CompletableFuture<String> running = users.call("one");
        CompletableFuture<String> queued = users.call("two");

        assertThat(attempts).hasSize(1);
        assertThat(users.counts().target()).isEqualTo(1);
        assertThat(queued).isNotDone();
        first.finish();
        assertThat(running).isCompletedWithValue("0:one");
        first.finish();
        assertThat(queued).isCompletedWithValue("0:two");
    }

    @Test
    void aCallThatFindsEveryMemberBusyGrowsThePoolByOne() {
        WarmPool<String, String, String> users = start(3);
        healthy(0);
        CompletableFuture<String> one = users.call("one");
        assertThat(attempts).hasSize(1);

        CompletableFuture<String> two = users.call("two");
        assertThat(attempts).hasSize(2);
        assertThat(users.counts().target()).isEqualTo(2);
        assertThat(notices).containsExactly("users: every serving member is busy; growing to 2 members (at most 3)");

        // While the new member connects, more saturated calls do not grow it again.
        CompletableFuture<String> three = users.call("three");
        assertThat(attempts).hasSize(2);

        OneAtATime second = healthy(1);
        assertThat(two).isNotDone();
        second.finish();
        assertThat(two).isCompletedWithValue("1:two");
        // Both members busy again (one, three): the next call grows to the cap, then no further.
        CompletableFuture<String> four = users.call("four");
        assertThat(attempts).hasSize(3);
        healthy(2);
        CompletableFuture<String> five = users.call("five");
        assertThat(attempts).hasSize(3);
        assertThat(users.counts().target()).isEqualTo(3);

        finishAll();
        assertThat(List.of(one, three, four, five)).allMatch(CompletableFuture::isDone);
    }

    @Test
    void aGrownPoolShrinksOneMemberPerQuietPeriod() {
        WarmPool<String, String, String> users = start(3);
        OneAtATime first = healthy(0);
        CompletableFuture<String> one = users.call("one");
        CompletableFuture<String> two = users.call("two"); // saturated at t=0: grows to 2
        OneAtATime second = healthy(1);
        second.finish();
        first.finish();
        assertThat(List.of(one, two)).allMatch(CompletableFuture::isDone);

        clock.advance(Duration.ofSeconds(20));
        CompletableFuture<String> three = users.call("three");
        CompletableFuture<String> four = users.call("four");
        // Two members, both busy, saturated at t=20 s: grows to 3.
        CompletableFuture<String> five = users.call("five");
        assertThat(users.counts().target()).isEqualTo(3);
        assertThat(attempts).hasSize(3);
        finishAll();
        assertThat(List.of(three, four, five)).allMatch(CompletableFuture::isDone);
        // The third member never connected: it is the first given back.

        // The shrink check planned for t=60 s finds the pool saturated 40 s ago: it waits to t=80 s.
        clock.advance(Duration.ofSeconds(60).minus(NANO));
        assertThat(users.counts().target()).isEqualTo(3);
        clock.advance(NANO);
        assertThat(users.counts().target()).isEqualTo(2);
        assertThat(attempts.get(2).future).isCancelled();
        assertThat(notices).last().isEqualTo("users: no call found every member busy for 1m; shrinking to 2 members");

        // Another quiet minute: back to want, giving back the newest healthy member after its calls.
        clock.advance(SHRINK.minus(NANO));
        assertThat(users.counts().target()).isEqualTo(2);
        clock.advance(NANO);
        PoolCounts counts = users.counts();
        assertThat(counts.target()).isEqualTo(1);
        assertThat(counts.members()).isEqualTo(1);
        assertThat(second.closed).isTrue();
        assertThat(first.closed).isFalse();
        // Shrunk to want: nothing more to give back.
        clock.advance(SHRINK.multipliedBy(2));
        assertThat(users.counts().target()).isEqualTo(1);
        assertThat(first.closed).isFalse();
    }

    @Test
    void maxMembersBelowWantIsRefused() {
        assertThatThrownBy(() -> WarmPool.<String, String, String>builder(
                                "users", AddressSource.of(List.of("a")), address -> new CompletableFuture<>())
                        .want(3)
                        .growth(2, SHRINK)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxMembers (2) must not be below want (3)");
    }

    /** One connection attempt the test completes. */
    static final class Attempt {
        final int id;
        final CompletableFuture<OneAtATime> future = new CompletableFuture<>();

        @Nullable
        OneAtATime member;

        Attempt(int id) {
            this.id = id;
        }

        OneAtATime connect() {
            OneAtATime made = new OneAtATime(id);
            member = made;
            future.complete(made);
            return made;
        }
    }

    /** A member that runs one request at a time: busy while it runs; answers "id:request". */
    static final class OneAtATime implements PoolMember<String, String> {
        final int id;
        final CompletableFuture<Void> probe = new CompletableFuture<>();
        private @Nullable CompletableFuture<String> running;
        private @Nullable String runningRequest;
        private CompletableFuture<Void> free = new CompletableFuture<>();
        boolean closed;

        OneAtATime(int id) {
            this.id = id;
        }

        @Override
        public synchronized CompletableFuture<String> call(String request) {
            if (running != null) {
                throw new AssertionError("member " + id + " was called while busy with " + runningRequest);
            }
            running = new CompletableFuture<>();
            runningRequest = request;
            free = new CompletableFuture<>();
            return running;
        }

        @Override
        public synchronized @Nullable CompletableFuture<String> tryCall(String request) {
            return running == null ? call(request) : null;
        }

        @Override
        public synchronized Readiness readiness() {
            return running == null ? Readiness.READY : Readiness.BUSY;
        }

        @Override
        public synchronized CompletionStage<Void> whenReady() {
            return running == null ? CompletableFuture.completedFuture(null) : free.copy();
        }

        /** Answers the running request (which must exist), freeing the member. */
        void finish() {
            CompletableFuture<String> done;
            CompletableFuture<Void> wake;
            String request;
            synchronized (this) {
                done = running;
                request = runningRequest;
                if (done == null) {
                    throw new AssertionError("member " + id + " has nothing running");
                }
                running = null;
                runningRequest = null;
                wake = free;
            }
            done.complete(id + ":" + request);
            wake.complete(null);
        }

        @Override
        public CompletionStage<?> checkHealth() {
            return probe;
        }

        @Override
        public synchronized void close() {
            closed = true;
        }
    }
}
