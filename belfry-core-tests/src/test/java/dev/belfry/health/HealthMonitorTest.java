package dev.belfry.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.OverloadedException;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.Services;
import dev.belfry.balance.Balancer;
import dev.belfry.discover.Discover;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.timeout.ElapsedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class HealthMonitorTest extends LayerContractTest {
    private static final Duration INTERVAL = Duration.ofSeconds(2);

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return HealthMonitor.<String>builder().clock(clock).build().monitor("a", inner);
    }

    private HealthMonitor.Builder<String> noJitter() {
        return HealthMonitor.<String>builder()
                .clock(clock)
                .jitter(Duration.ZERO)
                .random(new SplittableRandom(3));
    }

    /** A check whose next results the test sets. */
    private static final class Scripted implements HealthCheck {
        final AtomicBoolean passing = new AtomicBoolean(true);
        final AtomicBoolean flapping = new AtomicBoolean();
        final AtomicInteger runs = new AtomicInteger();

        @Override
        public CompletableFuture<?> check() {
            runs.incrementAndGet();
            boolean pass = flapping.get() ? passing.getAndSet(!passing.get()) : passing.get();
            return pass
                    ? CompletableFuture.completedFuture(null)
                    : CompletableFuture.failedFuture(new IllegalStateException("probe failed"));
        }
    }

    private void checks(int count) {
        for (int i = 0; i < count; i++) {
            clock.advance(INTERVAL);
        }
    }

    @Test
    void checksRunAtOnceThenEveryIntervalAndNotBefore() {
        Scripted check = new Scripted();
        HealthChecked<String, String> service = noJitter().build().monitor("a", inner, check);
        clock.runDue();
        assertThat(check.runs).hasValue(1);
        clock.advance(INTERVAL.minusNanos(1));
        assertThat(check.runs).hasValue(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(check.runs).hasValue(2);
        assertThat(service.state().lastCheckAtNanos()).isEqualTo(clock.nanoTime());
        service.close();
        assertThat(clock.pendingTasks()).as("closing stops the checks").isZero();
    }

    @Test
    void aCheckThatHangsFailsAtTheTimeoutAndIsCancelled() {
        CompletableFuture<Void> hanging = new CompletableFuture<>();
        // Panic off: a lone endpoint out of rotation would otherwise be put back at once.
        HealthChecked<String, String> service =
                noJitter().fall(1).panicThreshold(0).build().monitor("a", inner, () -> hanging);
        clock.runDue();
        clock.advance(Duration.ofSeconds(1).minusNanos(1));
        assertThat(service.state().status()).isEqualTo(HealthStatus.HEALTHY);
        clock.advance(Duration.ofNanos(1));
        assertThat(service.state().status()).isEqualTo(HealthStatus.UNHEALTHY);
        assertThat(service.state().lastError()).isInstanceOf(ElapsedException.class);
        assertThat(hanging).isCancelled();
        assertThat(service.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(service.tryCall("x")).isNull();
        service.close();
    }

    @Test
    void flappingChecksNeverFlipTheStateWithRiseTwoAndFallThree() {
        Scripted check = new Scripted();
        check.flapping.set(true);
        check.passing.set(false);
        HealthChecked<String, String> service = noJitter().build().monitor("a", inner, check);
        clock.runDue();
        for (int i = 0; i < 20; i++) {
            assertThat(service.state().status()).isEqualTo(HealthStatus.HEALTHY);
            clock.advance(INTERVAL);
        }
        check.flapping.set(false);
        check.passing.set(false);
        checks(3);
        assertThat(service.state().status()).isEqualTo(HealthStatus.UNHEALTHY);
        check.flapping.set(true);
        check.passing.set(true);
        for (int i = 0; i < 20; i++) {
            clock.advance(INTERVAL);
            assertThat(service.state().status()).isEqualTo(HealthStatus.UNHEALTHY);
        }
        service.close();
    }

    @Test
    void aRecoveredEndpointGetsTrafficBackAfterRisePasses() {
        HealthMonitor<String> monitor = noJitter().panicThreshold(0).build();
        Scripted checkB = new Scripted();
        Map<String, Service<String, String>> endpoints = new LinkedHashMap<>();
        endpoints.put("a", Services.fromFunction(r -> "a"));
        endpoints.put("b", Services.fromFunction(r -> "b"));
        endpoints.put("c", Services.fromFunction(r -> "c"));
        Balancer<String, String> balancer = Balancer.builder(
                        Discover.of(endpoints),
                        (String key, Service<String, String> service) ->
                                key.equals("b") ? monitor.monitor(key, service, checkB) : monitor.monitor(key, service))
                .roundRobin()
                .clock(clock)
                .build();
        clock.runDue();
        assertThat(served(balancer, 30)).containsEntry("b", 10);

        checkB.passing.set(false);
        checks(2);
        assertThat(served(balancer, 30)).as("two failures are not enough").containsKey("b");
        checks(1);
        assertThat(monitor.states().get("b").status()).isEqualTo(HealthStatus.UNHEALTHY);
        assertThat(served(balancer, 30)).doesNotContainKey("b");

        checkB.passing.set(true);
        checks(1);
        assertThat(served(balancer, 30)).as("one pass is not enough").doesNotContainKey("b");
        checks(1);
        assertThat(monitor.states().get("b").status()).isEqualTo(HealthStatus.HEALTHY);
        assertThat(served(balancer, 30)).containsKey("b");
        balancer.close();
    }

    private static Map<String, Integer> served(Service<String, String> service, int calls) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < calls; i++) {
            counts.merge(service.call("x").join(), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void theListenerHearsEveryStatusChangeOnceWithWhereItCameFrom() {
        List<String> heard = new ArrayList<>();
        AtomicReference<Service<String, String>> inner = new AtomicReference<>();
        AtomicBoolean failing = new AtomicBoolean(true);
        HealthMonitor<String> monitor = noJitter()
                .consecutiveFailures(2)
                .ejection(Duration.ofSeconds(10), Duration.ofSeconds(10))
                .panicThreshold(0)
                .listener((key, from, to) -> {
                    // Outside the monitor's lock: asking the monitor from here must not deadlock.
                    heard.add(key + ":" + from + "->" + to + " (" + inner.get().readiness() + ")");
                })
                .build();
        HealthChecked<String, String> service = monitor.monitor(
                "a",
                request -> failing.get()
                        ? CompletableFuture.failedFuture(new IllegalStateException("boom"))
                        : CompletableFuture.completedFuture("ok"));
        inner.set(service);

        service.call("1");
        assertThat(heard).isEmpty();
        service.call("2");
        assertThat(heard).containsExactly("a:HEALTHY->EJECTED (BUSY)");
        clock.advance(Duration.ofSeconds(10));
        failing.set(false);
        service.call("3");
        assertThat(heard)
                .containsExactly(
                        "a:HEALTHY->EJECTED (BUSY)", "a:EJECTED->PROBING (READY)", "a:PROBING->HEALTHY (READY)");
        service.close();
    }

    @Test
    void consecutiveFailuresEjectForAGrowingJitteredTimeThenProbe() {
        AtomicReference<RuntimeException> failure = new AtomicReference<>(new IllegalStateException("boom"));
        Service<String, String> flaky = request -> failure.get() == null
                ? CompletableFuture.completedFuture("ok")
                : CompletableFuture.failedFuture(failure.get());
        HealthMonitor<String> monitor = noJitter()
                .consecutiveFailures(3)
                .ejection(Duration.ofSeconds(10), Duration.ofSeconds(100))
                .panicThreshold(0)
                .build();
        HealthChecked<String, String> service = monitor.monitor("a", flaky);
        service.call("1");
        service.call("2");
        assertThat(service.state().status()).isEqualTo(HealthStatus.HEALTHY);
        service.call("3");
        HealthState ejected = service.state();
        assertThat(ejected.status()).isEqualTo(HealthStatus.EJECTED);
        assertThat(ejected.lastError()).hasMessage("boom");
        long first = ejected.ejectedUntilNanos() - clock.nanoTime();
        assertThat(Duration.ofNanos(first)).isBetween(Duration.ofSeconds(10), Duration.ofSeconds(20));
        assertThat(service.readiness()).isEqualTo(Readiness.BUSY);

        clock.advance(Duration.ofNanos(first - 1));
        assertThat(service.state().status()).isEqualTo(HealthStatus.EJECTED);
        clock.advance(Duration.ofNanos(1));
        assertThat(service.state().status()).isEqualTo(HealthStatus.PROBING);
        assertThat(service.readiness()).isEqualTo(Readiness.READY);

        // On probation one failure is enough, and the second ejection may be longer.
        service.call("4");
        assertThat(service.state().status()).isEqualTo(HealthStatus.EJECTED);
        assertThat(service.state().ejections()).isEqualTo(2);
        long second = service.state().ejectedUntilNanos() - clock.nanoTime();
        assertThat(Duration.ofNanos(second)).isBetween(Duration.ofSeconds(10), Duration.ofSeconds(40));
        clock.advance(Duration.ofNanos(second));
        failure.set(null);
        service.call("5");
        assertThat(service.state().status()).isEqualTo(HealthStatus.HEALTHY);
        service.close();
    }

    @Test
    void ejectionNeverExceedsTheCap() {
        HealthMonitor<String> monitor = noJitter()
                .consecutiveFailures(1)
                .maxEjectedFraction(0.3)
                .panicThreshold(0)
                .build();
        List<HealthChecked<String, String>> services = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            services.add(monitor.monitor("e" + i, Services.failing(new IllegalStateException("down"))));
        }
        for (int round = 0; round < 5; round++) {
            for (HealthChecked<String, String> service : services) {
                service.call("x");
            }
            long ejected = monitor.states().values().stream()
                    .filter(state -> state.status() == HealthStatus.EJECTED)
                    .count();
            assertThat(ejected).isEqualTo(3);
        }
        services.forEach(HealthChecked::close);
    }

    @Test
    void localRejectionsAndCancellationsDoNotCountAsFailures() {
        AtomicInteger calls = new AtomicInteger();
        Service<String, String> overloaded =
                request -> CompletableFuture.failedFuture(new OverloadedException("limit " + calls.incrementAndGet()));
        HealthChecked<String, String> service =
                noJitter().consecutiveFailures(1).build().monitor("a", overloaded);
        service.call("x");
        assertThat(service.state().status()).isEqualTo(HealthStatus.HEALTHY);
        service.close();

        HealthChecked<String, String> held =
                noJitter().consecutiveFailures(1).build().monitor("b", inner);
        held.call("x").cancel(false);
        assertThat(held.state().status()).isEqualTo(HealthStatus.HEALTHY);
        held.close();
    }

    @Test
    void aFailureTestThatThrowsCountsTheFailureAndTheCallerStillGetsItsAnswer() {
        Service<String, String> failing = Services.failing(new IllegalStateException("down"));
        HealthChecked<String, String> service = noJitter()
                .consecutiveFailures(1)
                .panicThreshold(0)
                .failureTest(failure -> {
                    throw new IllegalArgumentException("broken test");
                })
                .build()
                .monitor("a", failing);
        CompletableFuture<String> result = service.call("x");
        assertThat(failureOf(result)).isInstanceOf(IllegalStateException.class).hasMessage("down");
        assertThat(service.state().status()).isEqualTo(HealthStatus.EJECTED);
        service.close();
    }

    @Test
    void belowThePanicThresholdEveryEndpointTakesTrafficAgain() {
        HealthMonitor<String> monitor = noJitter().fall(1).build();
        Scripted failing = new Scripted();
        failing.passing.set(false);
        HealthChecked<String, String> a = monitor.monitor("a", Services.constant("a"), failing);
        HealthChecked<String, String> b = monitor.monitor("b", Services.constant("b"), new Scripted());
        HealthChecked<String, String> c = monitor.monitor("c", Services.constant("c"), new Scripted());
        clock.runDue();
        assertThat(monitor.panicking()).as("two of three in rotation").isFalse();
        assertThat(a.readiness()).isEqualTo(Readiness.BUSY);
        CompletableFuture<Void> aReady = a.whenReady().toCompletableFuture();
        c.close();
        HealthChecked<String, String> d = monitor.monitor("d", Services.constant("d"), failing);
        clock.runDue();
        assertThat(monitor.states().get("d").status()).isEqualTo(HealthStatus.UNHEALTHY);
        assertThat(monitor.panicking()).as("one of three in rotation").isTrue();
        assertThat(aReady).isDone();
        assertThat(a.readiness()).isEqualTo(Readiness.READY);
        assertThat(a.tryCall("x")).isCompletedWithValue("a");
        List.of(a, b, d).forEach(HealthChecked::close);
    }

    @Test
    void servicesUnderTheSameKeyShareOneHealthRecord() {
        HealthMonitor<String> monitor =
                noJitter().consecutiveFailures(1).panicThreshold(0).build();
        HealthChecked<String, String> old = monitor.monitor("a", Services.failing(new IllegalStateException("x")));
        HealthChecked<String, String> replacement = monitor.monitor("a", Services.constant("ok"));
        old.call("x");
        assertThat(replacement.state().status()).isEqualTo(HealthStatus.EJECTED);
        old.close();
        assertThat(monitor.states()).containsKey("a");
        replacement.close();
        assertThat(monitor.states()).isEmpty();
        assertThat(clock.pendingTasks())
                .as("the ejection timer went with the last service")
                .isZero();
    }

    @Test
    void rejectsBadSettingsNamingThem() {
        assertThatThrownBy(() -> HealthMonitor.builder().clock(clock).rise(0))
                .hasMessage("rise must be at least 1, was 0");
        assertThatThrownBy(() -> HealthMonitor.builder().clock(clock).fall(-1))
                .hasMessage("fall must be at least 1, was -1");
        assertThatThrownBy(() -> HealthMonitor.builder().clock(clock).maxEjectedFraction(1.5))
                .hasMessage("maxEjectedFraction must be between 0.0 and 1.0, was 1.5");
        assertThatThrownBy(() -> HealthMonitor.builder().clock(clock).panicThreshold(-0.1))
                .hasMessage("panicThreshold must be between 0.0 and 1.0, was -0.1");
        assertThatThrownBy(() -> HealthMonitor.builder().clock(clock).interval(Duration.ZERO))
                .hasMessage("interval must be positive, was PT0S");
        assertThatThrownBy(() ->
                        HealthMonitor.builder().clock(clock).ejection(Duration.ofSeconds(30), Duration.ofSeconds(10)))
                .hasMessage("maxEjection must be at least baseEjection (PT30S), was PT10S");
        assertThatThrownBy(() -> HealthMonitor.builder().clock(clock).rise(2).rise(3))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("rise was already set");
    }
}
