package dev.belfry.health.registry;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.internal.ListenerGuard;
import dev.belfry.internal.SerialExecutor;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jspecify.annotations.Nullable;

/**
 * The health of this process: named dependency checks, each run on its own schedule with a timeout
 * and rise/fall hysteresis, a draining flag, snapshots, and listeners told of every change.
 *
 * <pre>{@code
 * HealthRegistry health = HealthRegistry.builder()
 *         .dependency(Dependency.required("database", DependencyCheck.completing(db::ping)))
 *         .dependency(Dependency.optional("cache", cacheCheck).withInterval(Duration.ofSeconds(10)))
 *         .build();                          // the first checks start at once
 * health.report();                           // a snapshot: status, ready, draining, dependencies
 * health.subscribe(report -> ...);           // the current report now, then every change
 * health.drain();                            // on SIGTERM: not ready any more
 * health.close();                            // stops every check
 * }</pre>
 *
 * <p><b>Schedule.</b> A dependency's first check starts as soon as it is registered; each next one
 * starts {@code interval} after the previous ended. A check that has not answered within {@code
 * timeout} counts as unhealthy ("timed out after ...") and its future is cancelled; a check that
 * throws, fails or returns {@code null} counts as unhealthy with the reason as its message. The
 * registry measures each check's latency on its clock. Checks run on the clock's timer threads
 * (virtual threads for the system clock), never on a request's path: serving a report only reads
 * the last results.
 *
 * <p><b>Hysteresis.</b> A dependency starts {@link Health#UNKNOWN}; its first result sets its
 * status at once (so a process becomes ready after one passing check of each required dependency).
 * After that it goes down after {@code fall} failures in a row and comes back after {@code rise}
 * passes in a row; while up, a pass that is degraded or healthy sets the status directly. The
 * message and latency are always the latest check's, even before the status flips.
 *
 * <p><b>Listeners.</b> {@link #subscribe} delivers the current report at once, then a new report
 * on every change: a dependency's status, the draining flag, a dependency registered or
 * unregistered (not on every check's latency or message). Listeners are called one at a time, in
 * the order of the changes, outside the registry's lock, on the thread that made the change (or the
 * one already delivering); they must not block. What a listener throws is logged and dropped.
 *
 * <p>Thread-safe.
 */
public final class HealthRegistry implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HealthRegistry.class.getName());

    /** Told of the registry's report at once and after each change. */
    @FunctionalInterface
    public interface Listener {
        /** The registry's state is now {@code report}. Must not block. */
        void changed(HealthReport report);
    }

    /** A registered dependency or a subscribed listener; closing it removes it. Idempotent. */
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    private final Clock clock;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final List<Subscriber> subscribers = new ArrayList<>();
    private boolean draining;
    private boolean closed;

    // Reports to deliver, in the order of the changes; queued under the lock, delivered outside it.
    private final ConcurrentLinkedQueue<Runnable> outbox = new ConcurrentLinkedQueue<>();
    private final SerialExecutor delivery = new SerialExecutor(
            failure -> LOG.log(System.Logger.Level.ERROR, "a health listener failed; the report is dropped", failure));

    private HealthRegistry(Clock clock) {
        this.clock = clock;
    }

    /** A builder of a registry on the system clock with no dependencies. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Registers {@code dependency} and starts checking it at once; closing the returned
     * registration stops its checks and removes it from reports.
     *
     * @throws IllegalStateException if a dependency of that name is registered, or the registry is
     *     closed
     */
    public Registration register(Dependency dependency) {
        Checks.notNull(dependency, "dependency");
        Entry entry;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the health registry is closed; cannot register " + dependency.name());
            }
            if (entries.containsKey(dependency.name())) {
                throw new IllegalStateException("a dependency named '" + dependency.name() + "' is already registered");
            }
            entry = new Entry(dependency, clock.nanoTime());
            entries.put(dependency.name(), entry);
            entry.checkTimer = clock.schedule(Duration.ZERO, () -> runCheck(entry));
            changed();
        }
        deliver();
        return () -> unregister(entry);
    }

    /**
     * Calls {@code listener} with the current report now, then with a new report after every change,
     * until the returned registration is closed (a report already being delivered may still arrive).
     */
    public Registration subscribe(Listener listener) {
        Subscriber subscriber = new Subscriber(Checks.notNull(listener, "listener"));
        synchronized (this) {
            if (!closed) {
                subscribers.add(subscriber);
            }
            HealthReport current = snapshot();
            outbox.add(() -> subscriber.deliver(current));
        }
        deliver();
        return subscriber;
    }

    /** A snapshot of the current state. */
    public synchronized HealthReport report() {
        return snapshot();
    }

    /**
     * Marks the process as draining (shutting down): reports say not ready from now on, so load
     * balancers and Kubernetes stop sending new traffic while requests in flight finish. Idempotent.
     */
    public void drain() {
        setDraining(true);
    }

    /** Undoes {@link #drain()}: the process is ready again once its required dependencies are up. */
    public void cancelDrain() {
        setDraining(false);
    }

    private void setDraining(boolean value) {
        synchronized (this) {
            if (draining == value) {
                return;
            }
            draining = value;
            changed();
        }
        deliver();
    }

    /**
     * Stops every check (cancelling those in flight) and drops the listeners; reports stay
     * available with the last results. Idempotent.
     */
    @Override
    public void close() {
        List<CompletableFuture<?>> abandoned = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (Entry entry : entries.values()) {
                stop(entry, abandoned);
            }
            for (Subscriber subscriber : subscribers) {
                subscriber.active = false;
            }
            subscribers.clear();
        }
        abandoned.forEach(probe -> probe.cancel(false));
    }

    @Override
    public synchronized String toString() {
        HealthReport report = snapshot();
        return "HealthRegistry[" + report.status().wireName() + ", " + entries.size() + " dependencies"
                + (report.ready() ? ", ready" : ", not ready") + (draining ? ", draining" : "")
                + (closed ? ", closed" : "") + "]";
    }

    // ---- checks ------------------------------------------------------------------------------

    private void unregister(Entry entry) {
        List<CompletableFuture<?>> abandoned = new ArrayList<>();
        synchronized (this) {
            if (entries.get(entry.dependency.name()) != entry) {
                return;
            }
            entries.remove(entry.dependency.name());
            stop(entry, abandoned);
            if (!closed) {
                changed();
            }
        }
        abandoned.forEach(probe -> probe.cancel(false));
        deliver();
    }

    /** Stops an entry's timers; its in-flight probe goes into {@code abandoned}. Under the lock. */
    private static void stop(Entry entry, List<CompletableFuture<?>> abandoned) {
        entry.stopped = true;
        entry.round = 0;
        if (entry.checkTimer != null) {
            entry.checkTimer.cancel();
            entry.checkTimer = null;
        }
        if (entry.timeoutTimer != null) {
            entry.timeoutTimer.cancel();
            entry.timeoutTimer = null;
        }
        if (entry.inflight != null) {
            abandoned.add(entry.inflight);
            entry.inflight = null;
        }
    }

    private void runCheck(Entry entry) {
        Dependency dependency = entry.dependency;
        long round;
        long start;
        synchronized (this) {
            if (entry.stopped) {
                return;
            }
            entry.checkTimer = null;
            round = ++entry.rounds;
            entry.round = round;
            start = clock.nanoTime();
            Duration timeout = dependency.timeout();
            entry.timeoutTimer = clock.schedule(
                    timeout,
                    () -> finish(
                            entry,
                            round,
                            start,
                            CheckResult.unhealthy("timed out after " + timeout.toMillis() + " ms")));
        }
        // User code, outside the lock: a check that completes at once re-enters through finish.
        CompletableFuture<CheckResult> probe = start(dependency.check());
        boolean abandoned;
        synchronized (this) {
            abandoned = entry.round != round;
            if (!abandoned) {
                entry.inflight = probe;
            }
        }
        if (abandoned && !probe.isDone()) {
            probe.cancel(false); // timed out (or stopped) while check() was still running
            return;
        }
        probe.whenComplete((result, failure) -> finish(entry, round, start, resultOf(result, failure)));
    }

    private static CompletableFuture<CheckResult> start(DependencyCheck check) {
        try {
            CompletionStage<CheckResult> stage = check.check();
            return stage != null
                    ? stage.toCompletableFuture()
                    : Futures.failed(new NullPointerException("the check returned a null future"));
        } catch (RuntimeException e) {
            return Futures.failed(e);
        }
    }

    private static CheckResult resultOf(@Nullable CheckResult result, @Nullable Throwable failure) {
        if (failure != null) {
            Throwable cause = Futures.unwrap(failure);
            if (cause instanceof CancellationException) {
                return CheckResult.unhealthy("the check was cancelled");
            }
            String message = cause.getMessage();
            return CheckResult.unhealthy(
                    message == null || message.isBlank() ? cause.getClass().getSimpleName() : message);
        }
        return result != null ? result : CheckResult.unhealthy("the check completed without a result");
    }

    /** Records one round's result, if the round is still current (the first of result and timeout). */
    private void finish(Entry entry, long round, long start, CheckResult result) {
        CompletableFuture<?> probe;
        synchronized (this) {
            if (entry.round != round || entry.stopped) {
                return;
            }
            entry.round = 0;
            if (entry.timeoutTimer != null) {
                entry.timeoutTimer.cancel();
                entry.timeoutTimer = null;
            }
            probe = entry.inflight;
            entry.inflight = null;
            long now = clock.nanoTime();
            entry.latency = Duration.ofNanos(now - start);
            entry.message = result.message();
            Health next = entry.next(result);
            if (next != entry.status) {
                entry.status = next;
                entry.sinceNanos = now;
                changed();
            }
            entry.checkTimer = clock.schedule(entry.dependency.interval(), () -> runCheck(entry));
        }
        if (probe != null && !probe.isDone()) {
            probe.cancel(false); // the timeout won: abandon the probe
        }
        deliver();
    }

    // ---- reports -----------------------------------------------------------------------------

    /** The current report; under the lock. */
    private HealthReport snapshot() {
        List<DependencyHealth> dependencies = new ArrayList<>(entries.size());
        for (Entry entry : entries.values()) {
            Dependency dependency = entry.dependency;
            dependencies.add(new DependencyHealth(
                    dependency.name(),
                    dependency.required(),
                    entry.status,
                    entry.latency,
                    entry.message,
                    entry.sinceNanos));
        }
        return HealthReport.of(dependencies, draining, clock.nanoTime());
    }

    /** Queues the current report for every listener; under the lock, so reports queue in order. */
    private void changed() {
        if (subscribers.isEmpty()) {
            return;
        }
        HealthReport report = snapshot();
        List<Subscriber> targets = List.copyOf(subscribers);
        outbox.add(() -> {
            for (Subscriber subscriber : targets) {
                subscriber.deliver(report);
            }
        });
    }

    /** Delivers queued reports; outside the lock. */
    private void deliver() {
        if (outbox.isEmpty()) {
            return;
        }
        delivery.execute(() -> {
            Runnable next;
            while ((next = outbox.poll()) != null) {
                next.run();
            }
        });
    }

    /** One dependency's schedule and hysteresis state; guarded by the registry's lock. */
    private static final class Entry {
        final Dependency dependency;
        Health status = Health.UNKNOWN;
        long sinceNanos;

        @Nullable
        Duration latency;

        @Nullable
        String message;

        int passes;
        int fails;
        boolean stopped;
        /** The round in flight (0 when none), numbered from {@code rounds}. */
        long round;

        long rounds;
        Clock.@Nullable Scheduled checkTimer;
        Clock.@Nullable Scheduled timeoutTimer;

        @Nullable
        CompletableFuture<?> inflight;

        Entry(Dependency dependency, long now) {
            this.dependency = dependency;
            this.sinceNanos = now;
        }

        /** Counts {@code result} and returns the status it leads to. */
        Health next(CheckResult result) {
            if (result.passed()) {
                fails = 0;
                passes++;
                boolean up = status == Health.UNKNOWN || status.isUp() || passes >= dependency.rise();
                return up ? result.status() : status;
            }
            passes = 0;
            fails++;
            boolean down = status == Health.UNKNOWN || status == Health.UNHEALTHY || fails >= dependency.fall();
            return down ? Health.UNHEALTHY : status;
        }
    }

    private final class Subscriber implements Registration {
        private final Listener listener;
        private final ListenerGuard guard;
        volatile boolean active = true;

        Subscriber(Listener listener) {
            this.listener = listener;
            this.guard = new ListenerGuard(listener);
        }

        void deliver(HealthReport report) {
            if (active) {
                guard.run("health report", () -> listener.changed(report));
            }
        }

        @Override
        public void close() {
            active = false;
            synchronized (HealthRegistry.this) {
                subscribers.remove(this);
            }
        }
    }

    /** Settings for a {@link HealthRegistry}. Not thread-safe. */
    public static final class Builder {
        private @Nullable Clock clock;
        private final List<Dependency> dependencies = new ArrayList<>();

        private Builder() {}

        /** The clock for schedules, timeouts and latencies; default the system clock. Tests pass a manual clock. */
        public Builder clock(Clock value) {
            Checks.notSetTwice(clock, "clock");
            this.clock = Checks.notNull(value, "clock");
            return this;
        }

        /** Registers {@code dependency} when the registry is built. */
        public Builder dependency(Dependency dependency) {
            Checks.notNull(dependency, "dependency");
            for (Dependency other : dependencies) {
                if (other.name().equals(dependency.name())) {
                    throw new IllegalStateException("a dependency named '" + dependency.name() + "' was already added");
                }
            }
            dependencies.add(dependency);
            return this;
        }

        /** The registry, with every dependency's first check started. */
        public HealthRegistry build() {
            HealthRegistry registry = new HealthRegistry(clock != null ? clock : Clock.system());
            for (Dependency dependency : dependencies) {
                registry.register(dependency);
            }
            return registry;
        }
    }
}
