package dev.belfry.health.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Services;
import dev.belfry.test.ManualClock;
import dev.belfry.test.VerifyAfterEach;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class HealthRegistryTest {
    private static final Duration INTERVAL = Dependency.DEFAULT_INTERVAL; // 5 s
    private static final Duration TIMEOUT = Dependency.DEFAULT_TIMEOUT; // 2 s

    private final ManualClock clock = new ManualClock();
    private final List<HealthRegistry> registries = new ArrayList<>();

    @AfterEach
    void closeRegistries() {
        registries.forEach(HealthRegistry::close);
    }

    private HealthRegistry registry(Dependency... dependencies) {
        HealthRegistry.Builder builder = HealthRegistry.builder().clock(clock);
        for (Dependency dependency : dependencies) {
            builder.dependency(dependency);
        }
        HealthRegistry registry = builder.build();
        registries.add(registry);
        return registry;
    }

    /** A check whose probes the test answers one by one. */
    private static final class Held implements DependencyCheck {
        final List<CompletableFuture<CheckResult>> probes = new CopyOnWriteArrayList<>();

        @Override
        public CompletionStage<CheckResult> check() {
            CompletableFuture<CheckResult> probe = new CompletableFuture<>();
            probes.add(probe);
            return probe;
        }

        CompletableFuture<CheckResult> last() {
            return probes.get(probes.size() - 1);
        }

        void answer(CheckResult result) {
            assertThat(last().complete(result))
                    .as("the latest probe was still open")
                    .isTrue();
        }
    }

    /** A check that answers at once with whatever the test set last. */
    private static final class Scripted implements DependencyCheck {
        volatile CheckResult next = CheckResult.healthy();
        int runs;

        @Override
        public CompletionStage<CheckResult> check() {
            runs++;
            return CompletableFuture.completedFuture(next);
        }
    }

    private static Health statusOf(HealthRegistry registry, String name) {
        DependencyHealth dependency = registry.report().dependency(name);
        assertThat(dependency).as(name).isNotNull();
        return dependency.status();
    }

    @Test
    void checksAtOnceThenAnIntervalAfterEachEndsAndNotBefore() {
        Scripted db = new Scripted();
        registry(Dependency.required("db", db));
        assertThat(db.runs).as("scheduled, not run on the registering thread").isZero();

        clock.runDue();
        assertThat(db.runs).isEqualTo(1);
        clock.advance(INTERVAL.minusNanos(1));
        assertThat(db.runs).isEqualTo(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(db.runs).isEqualTo(2);
    }

    @Test
    void theNextCheckWaitsForTheSlowOneToEnd() {
        Held db = new Held();
        registry(Dependency.required("db", db).withTimeout(Duration.ofSeconds(10)));
        clock.runDue();
        clock.advance(Duration.ofSeconds(7)); // longer than the interval, shorter than the timeout
        assertThat(db.probes).hasSize(1);

        db.answer(CheckResult.healthy());
        clock.advance(INTERVAL.minusNanos(1));
        assertThat(db.probes).hasSize(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(db.probes).hasSize(2);
    }

    @Test
    void startsUnknownAndNotReadyThenTheFirstResultDecidesAtOnce() {
        Scripted db = new Scripted();
        HealthRegistry registry = registry(Dependency.required("db", db));

        HealthReport before = registry.report();
        assertThat(before.status()).isEqualTo(Health.UNKNOWN);
        assertThat(before.ready()).isFalse();
        assertThat(before.dependency("db").latency()).isNull();

        clock.runDue();
        HealthReport after = registry.report();
        assertThat(after.status()).isEqualTo(Health.HEALTHY);
        assertThat(after.ready()).isTrue();
        assertThat(after.dependency("db").latency()).isEqualTo(Duration.ZERO);
    }

    @Test
    void aFailingFirstCheckIsUnhealthyAtOnce() {
        Scripted db = new Scripted();
        db.next = CheckResult.unhealthy("connection refused");
        HealthRegistry registry = registry(Dependency.required("db", db));
        clock.runDue();

        HealthReport report = registry.report();
        assertThat(report.status()).isEqualTo(Health.UNHEALTHY);
        assertThat(report.ready()).isFalse();
        assertThat(report.dependency("db").message()).isEqualTo("connection refused");
    }

    @Test
    void goesDownOnlyAfterFallFailuresInARow() {
        Scripted db = new Scripted();
        HealthRegistry registry = registry(Dependency.required("db", db).withFall(3));
        clock.runDue();
        assertThat(statusOf(registry, "db")).isEqualTo(Health.HEALTHY);

        db.next = CheckResult.unhealthy("slow disk");
        clock.advance(INTERVAL); // failure 1
        clock.advance(INTERVAL); // failure 2
        assertThat(statusOf(registry, "db")).isEqualTo(Health.HEALTHY);
        assertThat(registry.report().dependency("db").message())
                .as("the message is the latest check's, before the status flips")
                .isEqualTo("slow disk");
        db.next = CheckResult.healthy();
        clock.advance(INTERVAL); // a pass resets the count
        db.next = CheckResult.unhealthy("slow disk");
        clock.advance(INTERVAL);
        clock.advance(INTERVAL);
        assertThat(statusOf(registry, "db")).isEqualTo(Health.HEALTHY);
        clock.advance(INTERVAL.minusNanos(1));
        assertThat(statusOf(registry, "db")).isEqualTo(Health.HEALTHY);
        clock.advance(Duration.ofNanos(1)); // failure 3 in a row
        assertThat(statusOf(registry, "db")).isEqualTo(Health.UNHEALTHY);
        assertThat(registry.report().ready()).isFalse();
    }

    @Test
    void comesBackOnlyAfterRisePassesInARow() {
        Scripted db = new Scripted();
        db.next = CheckResult.unhealthy("down");
        HealthRegistry registry = registry(Dependency.required("db", db).withRise(2));
        clock.runDue();
        assertThat(statusOf(registry, "db")).isEqualTo(Health.UNHEALTHY);

        db.next = CheckResult.healthy();
        clock.advance(INTERVAL); // pass 1
        assertThat(statusOf(registry, "db")).isEqualTo(Health.UNHEALTHY);
        db.next = CheckResult.unhealthy("down again");
        clock.advance(INTERVAL); // resets
        db.next = CheckResult.healthy();
        clock.advance(INTERVAL); // pass 1
        clock.advance(INTERVAL.minusNanos(1));
        assertThat(statusOf(registry, "db")).isEqualTo(Health.UNHEALTHY);
        clock.advance(Duration.ofNanos(1)); // pass 2
        assertThat(statusOf(registry, "db")).isEqualTo(Health.HEALTHY);
        assertThat(registry.report().ready()).isTrue();
    }

    @Test
    void whileUpADegradedOrHealthyPassSetsTheStatusDirectly() {
        Scripted db = new Scripted();
        HealthRegistry registry = registry(Dependency.required("db", db));
        clock.runDue();

        db.next = CheckResult.degraded("replica lag 12 s");
        clock.advance(INTERVAL);
        HealthReport degraded = registry.report();
        assertThat(degraded.status()).isEqualTo(Health.DEGRADED);
        assertThat(degraded.ready()).as("degraded still serves").isTrue();
        assertThat(degraded.dependency("db").message()).isEqualTo("replica lag 12 s");

        db.next = CheckResult.healthy();
        clock.advance(INTERVAL);
        assertThat(registry.report().status()).isEqualTo(Health.HEALTHY);
        assertThat(registry.report().dependency("db").message()).isNull();
    }

    @Test
    void aCheckThatTimesOutIsUnhealthyAtExactlyTheTimeoutAndIsCancelled() {
        Held db = new Held();
        HealthRegistry registry = registry(Dependency.required("db", db));
        clock.runDue();
        CompletableFuture<CheckResult> probe = db.last();

        clock.advance(TIMEOUT.minusNanos(1));
        assertThat(statusOf(registry, "db")).isEqualTo(Health.UNKNOWN);
        assertThat(probe).isNotDone();
        clock.advance(Duration.ofNanos(1));

        DependencyHealth db1 = registry.report().dependency("db");
        assertThat(db1.status()).isEqualTo(Health.UNHEALTHY);
        assertThat(db1.message()).isEqualTo("timed out after 2000 ms");
        assertThat(db1.latency()).isEqualTo(TIMEOUT);
        assertThat(probe).isCancelled();

        // The next check starts an interval after the timeout.
        clock.advance(INTERVAL.minusNanos(1));
        assertThat(db.probes).hasSize(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(db.probes).hasSize(2);
    }

    @Test
    void anAnswerAfterTheTimeoutChangesNothing() {
        Held db = new Held();
        db.probes.clear();
        DependencyCheck uncancellable = () -> {
            db.check();
            return db.last().thenApply(result -> result); // cancelling this does not reach the probe
        };
        HealthRegistry registry = registry(Dependency.required("db", uncancellable));
        clock.runDue();
        clock.advance(TIMEOUT);
        assertThat(statusOf(registry, "db")).isEqualTo(Health.UNHEALTHY);

        db.answer(CheckResult.healthy());
        assertThat(statusOf(registry, "db")).isEqualTo(Health.UNHEALTHY);
        assertThat(registry.report().dependency("db").message()).isEqualTo("timed out after 2000 ms");
    }

    @Test
    void measuresEachChecksLatencyOnTheClock() {
        Held db = new Held();
        HealthRegistry registry = registry(Dependency.required("db", db));
        clock.runDue();
        clock.advanceMillis(37);
        db.answer(CheckResult.healthy());

        assertThat(registry.report().dependency("db").latency()).isEqualTo(Duration.ofMillis(37));
    }

    @Test
    void aCheckThatThrowsFailsOrReturnsNullIsUnhealthyWithTheReason() {
        HealthRegistry registry = registry(
                Dependency.optional("throws", () -> {
                    throw new IllegalStateException("pool exhausted");
                }),
                Dependency.optional("fails", () -> CompletableFuture.failedFuture(new ArithmeticException())),
                Dependency.optional("null future", () -> null),
                Dependency.optional("null result", () -> CompletableFuture.completedFuture(null)));
        clock.runDue();

        HealthReport report = registry.report();
        assertThat(report.dependencies())
                .extracting(DependencyHealth::name, DependencyHealth::status, DependencyHealth::message)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("throws", Health.UNHEALTHY, "pool exhausted"),
                        org.assertj.core.groups.Tuple.tuple("fails", Health.UNHEALTHY, "ArithmeticException"),
                        org.assertj.core.groups.Tuple.tuple(
                                "null future", Health.UNHEALTHY, "the check returned a null future"),
                        org.assertj.core.groups.Tuple.tuple(
                                "null result", Health.UNHEALTHY, "the check completed without a result"));
        assertThat(report.status()).as("only optional ones failed").isEqualTo(Health.DEGRADED);
        assertThat(report.ready()).isTrue();
        clock.advance(INTERVAL);
        assertThat(registry.report().status()).as("they keep being checked").isEqualTo(Health.DEGRADED);
    }

    @Test
    void requiredDependenciesDecideReadinessAndOptionalOnesOnlyDegrade() {
        Scripted db = new Scripted();
        Scripted cache = new Scripted();
        HealthRegistry registry = registry(
                Dependency.required("db", db),
                Dependency.optional("cache", cache).withFall(1));
        clock.runDue();
        assertThat(registry.report().status()).isEqualTo(Health.HEALTHY);

        cache.next = CheckResult.unhealthy("no route to host");
        clock.advance(INTERVAL);
        HealthReport cacheDown = registry.report();
        assertThat(cacheDown.status()).isEqualTo(Health.DEGRADED);
        assertThat(cacheDown.ready()).isTrue();
        assertThat(cacheDown.dependency("cache").blocksReadiness()).isFalse();

        db.next = CheckResult.unhealthy("too many connections");
        for (int i = 0; i < 3; i++) {
            clock.advance(INTERVAL);
        }
        HealthReport dbDown = registry.report();
        assertThat(dbDown.status()).isEqualTo(Health.UNHEALTHY);
        assertThat(dbDown.ready()).isFalse();
        assertThat(dbDown.dependency("db").blocksReadiness()).isTrue();
    }

    @Test
    void aRequiredDependencyNotYetCheckedKeepsItNotReadyButAnOptionalOneDoesNot() {
        Held db = new Held();
        Held cache = new Held();
        HealthRegistry registry = registry(Dependency.required("db", db), Dependency.optional("cache", cache));
        clock.runDue();
        db.answer(CheckResult.healthy());
        assertThat(registry.report().status()).isEqualTo(Health.HEALTHY);
        assertThat(registry.report().ready()).isTrue();
    }

    @Test
    void drainingMakesItNotReadyWithoutChangingTheStatus() {
        HealthRegistry registry = registry(Dependency.required("db", new Scripted()));
        clock.runDue();

        registry.drain();
        HealthReport draining = registry.report();
        assertThat(draining.draining()).isTrue();
        assertThat(draining.ready()).isFalse();
        assertThat(draining.status()).isEqualTo(Health.HEALTHY);

        registry.cancelDrain();
        assertThat(registry.report().ready()).isTrue();
    }

    @Test
    void noDependenciesIsHealthyAndReady() {
        HealthReport report = registry().report();
        assertThat(report.status()).isEqualTo(Health.HEALTHY);
        assertThat(report.ready()).isTrue();
        assertThat(report.dependencies()).isEmpty();
    }

    @Test
    void sinceIsWhenTheStatusLastChanged() {
        Scripted db = new Scripted();
        HealthRegistry registry = registry(Dependency.required("db", db).withFall(1));
        long registered = clock.nanoTime();
        assertThat(registry.report().dependency("db").sinceNanos()).isEqualTo(registered);
        clock.advanceMillis(10); // the first check ran at registration time
        assertThat(registry.report().dependency("db").status()).isEqualTo(Health.HEALTHY);
        long healthyAt = registered;

        clock.advance(INTERVAL); // still healthy: since stays
        assertThat(registry.report().dependency("db").sinceNanos()).isEqualTo(healthyAt);
        db.next = CheckResult.unhealthy("gone");
        clock.advance(INTERVAL);
        HealthReport report = registry.report();
        DependencyHealth down = report.dependency("db");
        assertThat(down.sinceNanos())
                .as("the failing check ran two intervals after the first")
                .isEqualTo(registered + 2 * INTERVAL.toNanos());
        clock.advanceMillis(250);
        HealthReport later = registry.report();
        assertThat(later.timeInStatus(later.dependency("db")))
                .as("the clock is 10 ms past the failing check, then 250 ms more")
                .isEqualTo(Duration.ofMillis(260));
    }

    @Test
    void listenersGetTheCurrentReportAtOnceThenEachChangeOnly() {
        Scripted db = new Scripted();
        HealthRegistry registry = registry(Dependency.required("db", db).withFall(1));
        List<HealthReport> heard = new ArrayList<>();
        registry.subscribe(heard::add);
        assertThat(heard).extracting(HealthReport::status).containsExactly(Health.UNKNOWN);

        clock.runDue();
        clock.advance(INTERVAL); // a pass that changes nothing: no report
        clock.advance(INTERVAL);
        assertThat(heard).extracting(HealthReport::status).containsExactly(Health.UNKNOWN, Health.HEALTHY);

        db.next = CheckResult.unhealthy("gone");
        clock.advance(INTERVAL);
        registry.drain();
        registry.drain(); // no change
        registry.register(Dependency.optional("cache", new Scripted())).close();

        assertThat(heard)
                .extracting(
                        HealthReport::status,
                        HealthReport::ready,
                        HealthReport::draining,
                        r -> r.dependencies().size())
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(Health.UNKNOWN, false, false, 1),
                        org.assertj.core.groups.Tuple.tuple(Health.HEALTHY, true, false, 1),
                        org.assertj.core.groups.Tuple.tuple(Health.UNHEALTHY, false, false, 1),
                        org.assertj.core.groups.Tuple.tuple(Health.UNHEALTHY, false, true, 1),
                        org.assertj.core.groups.Tuple.tuple(Health.UNHEALTHY, false, true, 2),
                        org.assertj.core.groups.Tuple.tuple(Health.UNHEALTHY, false, true, 1));
    }

    @Test
    void aListenerThatThrowsDoesNotStopTheOthersAndAClosedSubscriptionHearsNothing() {
        Scripted db = new Scripted();
        HealthRegistry registry = registry(Dependency.required("db", db));
        List<Health> second = new ArrayList<>();
        List<Health> gone = new ArrayList<>();
        registry.subscribe(report -> {
            throw new IllegalStateException("listener bug");
        });
        registry.subscribe(report -> second.add(report.status()));
        HealthRegistry.Registration unsubscribed = registry.subscribe(report -> gone.add(report.status()));
        unsubscribed.close();

        clock.runDue();

        assertThat(second).containsExactly(Health.UNKNOWN, Health.HEALTHY);
        assertThat(gone).containsExactly(Health.UNKNOWN);
    }

    @Test
    void aListenerThatChangesTheRegistryHearsTheChangesInOrder() {
        HealthRegistry registry = registry();
        List<Boolean> heard = new ArrayList<>();
        registry.subscribe(report -> {
            heard.add(report.draining());
            if (!report.draining()) {
                registry.drain(); // delivered after this call returns, not inside it
            }
        });
        assertThat(heard).containsExactly(false, true);
    }

    @Test
    void unregisteringStopsTheChecksAndCancelsTheOneInFlight() {
        Held db = new Held();
        HealthRegistry registry = registry();
        HealthRegistry.Registration registration = registry.register(Dependency.required("db", db));
        clock.runDue();
        CompletableFuture<CheckResult> probe = db.last();

        registration.close();
        registration.close();

        assertThat(probe).isCancelled();
        assertThat(registry.report().dependencies()).isEmpty();
        assertThat(clock.pendingTasks()).isZero();
        registry.register(Dependency.required("db", new Scripted())); // the name is free again
        assertThat(registry.report().dependencies()).hasSize(1);
    }

    @Test
    void closeStopsEveryCheckCancelsTheOneInFlightAndKeepsTheLastReport() {
        Held db = new Held();
        Scripted cache = new Scripted();
        HealthRegistry registry = registry(Dependency.required("db", db), Dependency.optional("cache", cache));
        List<HealthReport> heard = new ArrayList<>();
        registry.subscribe(heard::add);
        clock.runDue();
        CompletableFuture<CheckResult> probe = db.last();

        registry.close();
        registry.close();

        assertThat(probe).isCancelled();
        assertThat(clock.pendingTasks()).as("no timer left").isZero();
        assertThat(registry.report().dependency("cache").status()).isEqualTo(Health.HEALTHY);
        int before = heard.size();
        registry.drain();
        assertThat(heard).as("listeners are dropped").hasSize(before);
        assertThatThrownBy(() -> registry.register(Dependency.optional("late", cache)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the health registry is closed; cannot register late");
    }

    @Test
    void aCheckStillRunningWhenItTimesOutIsCancelledWhenItReturns() {
        List<CompletableFuture<CheckResult>> probes = new ArrayList<>();
        DependencyCheck slowToStart = () -> {
            clock.advance(TIMEOUT); // the timeout fires while check() has not returned
            CompletableFuture<CheckResult> probe = new CompletableFuture<>();
            probes.add(probe);
            return probe;
        };
        HealthRegistry registry = registry(Dependency.required("db", slowToStart));
        clock.runDue();

        assertThat(probes).hasSize(1);
        assertThat(probes.get(0)).isCancelled();
        assertThat(registry.report().dependency("db").message()).isEqualTo("timed out after 2000 ms");
    }

    @Test
    void rejectsDuplicateNamesAndASecondClock() {
        HealthRegistry registry = registry(Dependency.required("db", new Scripted()));
        assertThatThrownBy(() -> registry.register(Dependency.optional("db", new Scripted())))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("a dependency named 'db' is already registered");
        assertThatThrownBy(() -> HealthRegistry.builder()
                        .dependency(Dependency.required("db", new Scripted()))
                        .dependency(Dependency.required("db", new Scripted())))
                .hasMessage("a dependency named 'db' was already added");
        assertThatThrownBy(() -> HealthRegistry.builder().clock(clock).clock(clock))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("clock was already set");
    }

    @Test
    void settingsAreValidatedNamingTheSetting() {
        Scripted check = new Scripted();
        assertThatThrownBy(() -> Dependency.required(" ", check)).hasMessage("name must not be blank, was ' '");
        assertThatThrownBy(() -> Dependency.required("db", check).withInterval(Duration.ZERO))
                .hasMessage("interval must be positive, was PT0S");
        assertThatThrownBy(() -> Dependency.required("db", check).withTimeout(Duration.ofSeconds(-1)))
                .hasMessage("timeout must be positive, was PT-1S");
        assertThatThrownBy(() -> Dependency.required("db", check).withRise(0))
                .hasMessage("rise must be at least 1, was 0");
        assertThatThrownBy(() -> Dependency.required("db", check).withFall(0))
                .hasMessage("fall must be at least 1, was 0");
        assertThatThrownBy(() -> new CheckResult(Health.UNKNOWN, null))
                .hasMessage("a check result must be healthy, degraded or unhealthy, was unknown");
    }

    @Test
    void completingTurnsAProbesOutcomeIntoAResultAndATimeoutCancelsTheProbe() {
        CompletableFuture<String> ping = new CompletableFuture<>();
        HealthRegistry registry = registry(
                Dependency.required("ok", DependencyCheck.completing(() -> CompletableFuture.completedFuture("pong"))),
                Dependency.optional(
                        "refused",
                        DependencyCheck.calling(
                                Services.<String, String>of(request ->
                                        CompletableFuture.failedFuture(new IllegalStateException("refused"))),
                                "ping")),
                Dependency.optional("hangs", DependencyCheck.completing(() -> ping)));
        clock.runDue();
        clock.advance(TIMEOUT);

        HealthReport report = registry.report();
        assertThat(report.dependency("ok").status()).isEqualTo(Health.HEALTHY);
        assertThat(report.dependency("refused").status()).isEqualTo(Health.UNHEALTHY);
        assertThat(report.dependency("refused").message()).isEqualTo("refused");
        assertThat(report.dependency("hangs").status()).isEqualTo(Health.UNHEALTHY);
        assertThat(ping).as("the timeout reached the probe").isCancelled();
    }
}
