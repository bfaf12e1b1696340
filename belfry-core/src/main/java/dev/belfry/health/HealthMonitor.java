package dev.belfry.health;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.OverloadedException;
import dev.belfry.Service;
import dev.belfry.backoff.Backoff;
import dev.belfry.time.Clock;
import dev.belfry.timeout.ElapsedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * Health for a group of endpoints (usually one balancer's): active checks with rise/fall
 * hysteresis, passive outlier detection with growing ejections capped by a maximum ejected
 * fraction, and panic mode.
 *
 * <p>Wrap each endpoint's service with {@link #monitor}; the returned {@link HealthChecked} reports
 * busy while its endpoint is out of rotation, so a balancer routes around it without knowing why.
 *
 * <ul>
 *   <li><b>Active.</b> With a {@link HealthCheck}, each endpoint is probed every {@code interval}
 *       (2 s) plus a random jitter (up to 10 % of the interval), each probe bounded by {@code
 *       timeout} (1 s, then it fails with {@link ElapsedException}). An endpoint becomes {@link
 *       HealthStatus#UNHEALTHY} after {@code fall} (3) failures in a row and healthy again after
 *       {@code rise} (2) passes in a row, so a flapping check never flips it. The first probe runs
 *       within the jitter of joining.
 *   <li><b>Passive.</b> Every request's outcome counts: {@code consecutiveFailures} (5) failures in
 *       a row, or a success rate below a threshold over a window (off by default), eject the
 *       endpoint for a jittered time that grows with each ejection in a row (exponential between
 *       the base, 30 s, and the maximum, 300 s). After the ejection it is {@link
 *       HealthStatus#PROBING}: back in rotation, and ejected again at its next failure, or healthy
 *       at its next success. At most {@code maxEjectedFraction} (10 %, but always at least one) of
 *       the endpoints are ejected at once. Cancellations and {@link OverloadedException}s (local
 *       rejections) do not count as failures by default.
 *   <li><b>Panic.</b> When fewer than {@code panicThreshold} (50 %) of the endpoints are in
 *       rotation, every endpoint reports ready again: spreading load over all of them beats
 *       overloading the few.
 * </ul>
 *
 * <p>State survives updates: services monitored under the same key share one health record, so a
 * balancer replacing an endpoint in place keeps its health. Thread-safe; transitions take the
 * monitor's lock, the request path only when a failure or a probation ends. Timers run on the
 * injected clock and are cancelled when the last service of an endpoint is closed.
 *
 * @param <K> the endpoint id
 */
public final class HealthMonitor<K> {
    private static final System.Logger LOG = System.getLogger(HealthMonitor.class.getName());

    /** Told of every change of an endpoint's status, after the change, outside the monitor's lock. */
    @FunctionalInterface
    public interface Listener<K> {
        /** Endpoint {@code key} went from {@code from} to {@code to}. Must not block. */
        void statusChanged(K key, HealthStatus from, HealthStatus to);
    }

    private final Clock clock;
    private final @Nullable Listener<? super K> listener;
    private final RandomGenerator random;
    private final long intervalNanos;
    private final long jitterNanos;
    private final Duration timeout;
    private final int rise;
    private final int fall;
    private final int consecutiveFailures;
    private final double minSuccessRate;
    private final int minRequests;
    private final long windowNanos;
    private final Backoff ejection;
    private final long maxEjectionNanos;
    private final double maxEjectedFraction;
    private final double panicThreshold;
    private final Predicate<? super Throwable> isFailure;

    private final Map<K, Member<K>> members = new LinkedHashMap<>();
    private int outOfRotation;
    private int ejected;
    private volatile boolean panic;

    private HealthMonitor(Builder<K> b) {
        this.clock = b.clock;
        this.random = b.random;
        this.intervalNanos = b.interval.toNanos();
        this.jitterNanos = (b.jitter != null ? b.jitter : b.interval.dividedBy(10)).toNanos();
        this.timeout = b.timeout;
        this.rise = b.rise;
        this.fall = b.fall;
        this.consecutiveFailures = b.consecutiveFailures;
        this.minSuccessRate = b.minSuccessRate;
        this.minRequests = b.minRequests;
        this.windowNanos = b.window.toNanos();
        this.ejection = Backoff.exponential(b.baseEjection, b.maxEjection, b.random);
        this.maxEjectionNanos = b.maxEjection.toNanos();
        this.maxEjectedFraction = b.maxEjectedFraction;
        this.panicThreshold = b.panicThreshold;
        this.isFailure = b.isFailure;
        this.listener = b.listener;
    }

    /** A builder of monitors with the defaults described above. */
    public static <K> Builder<K> builder() {
        return new Builder<>();
    }

    /** Monitors {@code service} as endpoint {@code key} passively (by its requests' outcomes). */
    public <Req, Res> HealthChecked<Req, Res> monitor(K key, Service<Req, Res> service) {
        return attach(key, service, null);
    }

    /** Monitors {@code service} as endpoint {@code key}, actively with {@code check} and passively. */
    public <Req, Res> HealthChecked<Req, Res> monitor(K key, Service<Req, Res> service, HealthCheck check) {
        return attach(key, service, Checks.notNull(check, "check"));
    }

    /** Snapshots of every monitored endpoint's health, in the order they joined. */
    public synchronized Map<K, HealthState> states() {
        Map<K, HealthState> states = new LinkedHashMap<>();
        members.forEach((key, member) -> states.put(key, member.snapshot()));
        return states;
    }

    /** Whether too few endpoints are in rotation, so all of them take traffic. */
    public boolean panicking() {
        return panic;
    }

    private <Req, Res> HealthChecked<Req, Res> attach(K key, Service<Req, Res> service, @Nullable HealthCheck check) {
        Checks.notNull(key, "key");
        Checks.notNull(service, "service");
        List<CompletableFuture<Void>> signals = new ArrayList<>();
        Member<K> member;
        synchronized (this) {
            member = members.get(key);
            if (member == null) {
                member = new Member<>(key, clock.nanoTime());
                members.put(key, member);
                updatePanic(signals);
            }
            member.refs++;
            if (check != null) {
                // The newest service's check replaces the old one; the health record stays.
                stopChecks(member);
                member.check = check;
                scheduleCheck(member, jitter());
            }
        }
        complete(signals);
        return new HealthChecked<>(this, member, service);
    }

    void detach(Member<?> member) {
        List<CompletableFuture<Void>> signals = new ArrayList<>();
        synchronized (this) {
            if (--member.refs > 0) {
                return;
            }
            members.remove(member.key);
            stopChecks(member);
            if (member.ejectionTimer != null) {
                member.ejectionTimer.cancel();
                member.ejectionTimer = null;
            }
            if (member.ejectedUntil != 0) {
                ejected--;
            }
            if (!member.status.inRotation()) {
                outOfRotation--;
            }
            signals.add(member.signal);
            updatePanic(signals);
        }
        complete(signals);
    }

    boolean admits(Member<?> member) {
        return member.status.inRotation() || panic;
    }

    synchronized CompletionStage<Void> changed(Member<?> member) {
        return member.signal.copy();
    }

    synchronized HealthState state(Member<?> member) {
        return member.snapshot();
    }

    // ---- passive -----------------------------------------------------------------------------

    void record(Member<?> member, @Nullable Throwable failure) {
        Throwable cause = failure == null ? null : Futures.unwrap(failure);
        if (cause != null && (cause instanceof CancellationException || !countsAsFailure(cause))) {
            return;
        }
        if (cause == null && member.status != HealthStatus.PROBING) {
            if (member.consecutiveFailures == 0 && minSuccessRate == 0) {
                // The common case: a success that changes nothing needs no lock.
                return;
            }
            // A success only moves this endpoint's counters: its own lock, not the monitor's, so
            // endpoints under load do not contend on every response.
            synchronized (member) {
                rollWindow(member, clock.nanoTime());
                member.consecutiveFailures = 0;
                member.windowSuccesses++;
            }
            return;
        }
        List<CompletableFuture<Void>> signals = new ArrayList<>();
        synchronized (this) {
            if (members.get(member.key) != member) {
                return;
            }
            long now = clock.nanoTime();
            if (cause == null) {
                synchronized (member) {
                    rollWindow(member, now);
                    member.consecutiveFailures = 0;
                    member.windowSuccesses++;
                }
                if (member.probing) {
                    member.probing = false;
                    member.ejections = 0;
                    updateStatus(member, signals);
                }
            } else {
                member.lastError = cause;
                boolean outlier;
                synchronized (member) {
                    rollWindow(member, now);
                    member.consecutiveFailures++;
                    member.windowFailures++;
                    int total = member.windowSuccesses + member.windowFailures;
                    outlier = member.probing
                            || member.consecutiveFailures >= consecutiveFailures
                            || (minSuccessRate > 0
                                    && total >= minRequests
                                    && member.windowSuccesses < minSuccessRate * total);
                }
                if (outlier) {
                    eject(member, now, signals);
                }
            }
        }
        complete(signals);
    }

    /** Starts a new success-rate window when the last one is over; under the member's lock. */
    private void rollWindow(Member<?> member, long now) {
        if (now - member.windowStart >= windowNanos) {
            member.windowStart = now;
            member.windowSuccesses = 0;
            member.windowFailures = 0;
        }
    }

    /** The user's failure test; one that throws counts the failure, so a broken test errs safe. */
    private boolean countsAsFailure(Throwable cause) {
        try {
            return isFailure.test(cause);
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "failure test threw on " + cause + "; counted as a failure", e);
            return true;
        }
    }

    private void eject(Member<?> member, long now, List<CompletableFuture<Void>> signals) {
        if (member.ejectedUntil != 0) {
            return;
        }
        int cap = Math.max(1, (int) Math.floor(maxEjectedFraction * members.size()));
        if (ejected >= cap) {
            // At the cap the endpoint stays in rotation; it is ejected later if still failing.
            return;
        }
        if (!member.probing && member.ejections > 0 && now - member.lastEjectionEnd > maxEjectionNanos) {
            // Well-behaved for longer than the longest ejection: start the growth over.
            member.ejections = 0;
        }
        member.ejections++;
        long duration = ejection.delay(member.ejections).toNanos();
        member.ejectedUntil = now + duration;
        member.probing = false;
        synchronized (member) {
            member.consecutiveFailures = 0;
            member.windowSuccesses = 0;
            member.windowFailures = 0;
        }
        ejected++;
        member.ejectionTimer = clock.schedule(Duration.ofNanos(duration), () -> endEjection(member));
        updateStatus(member, signals);
    }

    private void endEjection(Member<?> member) {
        List<CompletableFuture<Void>> signals = new ArrayList<>();
        synchronized (this) {
            if (members.get(member.key) != member || member.ejectedUntil == 0) {
                return;
            }
            member.ejectedUntil = 0;
            member.ejectionTimer = null;
            member.lastEjectionEnd = clock.nanoTime();
            member.probing = true;
            ejected--;
            updateStatus(member, signals);
        }
        complete(signals);
    }

    // ---- active ------------------------------------------------------------------------------

    private long jitter() {
        return jitterNanos == 0 ? 0 : random.nextLong(jitterNanos + 1);
    }

    private void scheduleCheck(Member<?> member, long delayNanos) {
        member.checkTimer = clock.schedule(Duration.ofNanos(delayNanos), () -> runCheck(member));
    }

    private void stopChecks(Member<?> member) {
        member.round = null;
        if (member.checkTimer != null) {
            member.checkTimer.cancel();
            member.checkTimer = null;
        }
        if (member.timeoutTimer != null) {
            member.timeoutTimer.cancel();
            member.timeoutTimer = null;
        }
        CompletableFuture<?> inflight = member.inflightCheck;
        member.inflightCheck = null;
        if (inflight != null) {
            inflight.cancel(false);
        }
    }

    private void runCheck(Member<?> member) {
        Member.Round round = new Member.Round();
        HealthCheck check;
        synchronized (this) {
            if (members.get(member.key) != member || member.check == null) {
                return;
            }
            check = member.check;
            member.checkTimer = null;
            member.round = round;
            member.timeoutTimer = clock.schedule(timeout, () -> {
                if (result(member, round, new ElapsedException(timeout))) {
                    CompletableFuture<?> probe = member.inflightCheck;
                    if (probe != null) {
                        probe.cancel(false);
                    }
                }
            });
        }
        CompletableFuture<?> probe = Futures.guard(check::check);
        synchronized (this) {
            if (member.round == round) {
                member.inflightCheck = probe;
            }
        }
        probe.whenComplete(
                (ignored, failure) -> result(member, round, failure == null ? null : Futures.unwrap(failure)));
    }

    /** Records one probe's result; returns false if the round was already decided or abandoned. */
    private boolean result(Member<?> member, Member.Round round, @Nullable Throwable failure) {
        List<CompletableFuture<Void>> signals = new ArrayList<>();
        synchronized (this) {
            if (member.round != round || members.get(member.key) != member) {
                return false;
            }
            member.round = null;
            if (member.timeoutTimer != null) {
                member.timeoutTimer.cancel();
                member.timeoutTimer = null;
            }
            member.lastCheckAt = clock.nanoTime();
            if (failure == null) {
                member.fails = 0;
                member.passes++;
                if (!member.activeHealthy && member.passes >= rise) {
                    member.activeHealthy = true;
                }
            } else {
                member.lastError = failure;
                member.passes = 0;
                member.fails++;
                if (member.activeHealthy && member.fails >= fall) {
                    member.activeHealthy = false;
                }
            }
            updateStatus(member, signals);
            scheduleCheck(member, intervalNanos + jitter());
        }
        complete(signals);
        return true;
    }

    // ---- status ------------------------------------------------------------------------------

    private void updateStatus(Member<?> member, List<CompletableFuture<Void>> signals) {
        HealthStatus next = !member.activeHealthy
                ? HealthStatus.UNHEALTHY
                : member.ejectedUntil != 0
                        ? HealthStatus.EJECTED
                        : member.probing ? HealthStatus.PROBING : HealthStatus.HEALTHY;
        HealthStatus previous = member.status;
        if (next == previous) {
            return;
        }
        if (previous.inRotation() && !next.inRotation()) {
            outOfRotation++;
        } else if (!previous.inRotation() && next.inRotation()) {
            outOfRotation--;
        }
        member.status = next;
        member.changedAt = clock.nanoTime();
        Listener<? super K> told = listener;
        if (told != null) {
            // Delivered with the readiness signals, once the lock is released.
            @SuppressWarnings("unchecked")
            K key = (K) member.key;
            CompletableFuture<Void> notice = new CompletableFuture<>();
            notice.thenRun(() -> told.statusChanged(key, previous, next));
            signals.add(notice);
        }
        signals.add(member.signal);
        member.signal = new CompletableFuture<>();
        updatePanic(signals);
    }

    private void updatePanic(List<CompletableFuture<Void>> signals) {
        int size = members.size();
        boolean next = size > 0 && (size - outOfRotation) < panicThreshold * size;
        if (next != panic) {
            panic = next;
            // Every out-of-rotation endpoint's readiness just changed.
            for (Member<K> member : members.values()) {
                signals.add(member.signal);
                member.signal = new CompletableFuture<>();
            }
        }
    }

    // Completed outside the lock: waiters' callbacks may call back into the monitor.
    private static void complete(List<CompletableFuture<Void>> signals) {
        for (CompletableFuture<Void> signal : signals) {
            signal.complete(null);
        }
    }

    @Override
    public synchronized String toString() {
        return "HealthMonitor[" + members.size() + " endpoints, " + outOfRotation + " out of rotation"
                + (panic ? ", panicking" : "") + "]";
    }

    /**
     * Settings for a {@link HealthMonitor}; each may be set once.
     *
     * @param <K> the endpoint id
     */
    public static final class Builder<K> {
        private Clock clock = Clock.system();
        private final List<String> set = new ArrayList<>();
        private RandomGenerator random = ThreadLocalRandom.current();
        private Duration interval = Duration.ofSeconds(2);
        private @Nullable Duration jitter;
        private Duration timeout = Duration.ofSeconds(1);
        private int rise = 2;
        private int fall = 3;
        private int consecutiveFailures = 5;
        private double minSuccessRate;
        private int minRequests;
        private Duration window = Duration.ofSeconds(10);
        private Duration baseEjection = Duration.ofSeconds(30);
        private Duration maxEjection = Duration.ofMinutes(5);
        private double maxEjectedFraction = 0.1;
        private double panicThreshold = 0.5;
        private Predicate<? super Throwable> isFailure = failure -> !(failure instanceof OverloadedException);
        private @Nullable Listener<? super K> listener;

        private Builder() {}

        private void once(String name) {
            if (set.contains(name)) {
                throw new IllegalStateException(name + " was already set");
            }
            set.add(name);
        }

        /**
         * The clock for check intervals, timeouts, windows and ejections; default the system clock.
         * Tests pass a manual clock.
         */
        public Builder<K> clock(Clock clock) {
            once("clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /** Time between the end of one active check and the start of the next; default 2 s. */
        public Builder<K> interval(Duration interval) {
            once("interval");
            this.interval = Checks.positive(interval, "interval");
            return this;
        }

        /** The most random time added to each interval; default a tenth of the interval. */
        public Builder<K> jitter(Duration jitter) {
            once("jitter");
            this.jitter = Checks.nonNegative(jitter, "jitter");
            return this;
        }

        /** How long an active check may take before it counts as failed; default 1 s. */
        public Builder<K> timeout(Duration timeout) {
            once("timeout");
            this.timeout = Checks.positive(timeout, "timeout");
            return this;
        }

        /** Passes in a row that make an unhealthy endpoint healthy; default 2. */
        public Builder<K> rise(int rise) {
            once("rise");
            this.rise = Checks.positive(rise, "rise");
            return this;
        }

        /** Failed checks in a row that make a healthy endpoint unhealthy; default 3. */
        public Builder<K> fall(int fall) {
            once("fall");
            this.fall = Checks.positive(fall, "fall");
            return this;
        }

        /** Request failures in a row that eject an endpoint; default 5. */
        public Builder<K> consecutiveFailures(int failures) {
            once("consecutiveFailures");
            this.consecutiveFailures = Checks.positive(failures, "consecutiveFailures");
            return this;
        }

        /**
         * Ejects an endpoint whose success rate over a {@code window} falls below {@code minRate}
         * once it has served at least {@code minRequests} in it; off by default.
         */
        public Builder<K> successRate(double minRate, int minRequests, Duration window) {
            once("successRate");
            Checks.inRange(minRate, 0.0, 1.0, "minSuccessRate");
            if (minRate == 0) {
                throw new IllegalArgumentException("minSuccessRate must be above 0.0, was 0.0");
            }
            this.minSuccessRate = minRate;
            this.minRequests = Checks.positive(minRequests, "minRequests");
            this.window = Checks.positive(window, "window");
            return this;
        }

        /** The first ejection time and the longest; ejections in a row grow between them; default 30 s, 300 s. */
        public Builder<K> ejection(Duration base, Duration max) {
            once("ejection");
            Checks.positive(base, "baseEjection");
            Checks.positive(max, "maxEjection");
            if (max.compareTo(base) < 0) {
                throw new IllegalArgumentException(
                        "maxEjection must be at least baseEjection (" + base + "), was " + max);
            }
            this.baseEjection = base;
            this.maxEjection = max;
            return this;
        }

        /** The largest fraction of endpoints ejected at once (at least one is always allowed); default 0.1. */
        public Builder<K> maxEjectedFraction(double fraction) {
            once("maxEjectedFraction");
            this.maxEjectedFraction = Checks.inRange(fraction, 0.0, 1.0, "maxEjectedFraction");
            return this;
        }

        /** Below this fraction of endpoints in rotation, all take traffic; 0 turns panic off; default 0.5. */
        public Builder<K> panicThreshold(double threshold) {
            once("panicThreshold");
            this.panicThreshold = Checks.inRange(threshold, 0.0, 1.0, "panicThreshold");
            return this;
        }

        /** Which request failures count against an endpoint; default all but {@link OverloadedException}. */
        public Builder<K> failureTest(Predicate<? super Throwable> isFailure) {
            once("failureTest");
            this.isFailure = Checks.notNull(isFailure, "failureTest");
            return this;
        }

        /**
         * Tells {@code listener} of every status change (for example, to restart a balancer's slow
         * start for an endpoint back in rotation); default none.
         */
        public Builder<K> listener(Listener<? super K> listener) {
            once("listener");
            this.listener = Checks.notNull(listener, "listener");
            return this;
        }

        /** The random source for jitter; default {@link ThreadLocalRandom}. */
        public Builder<K> random(RandomGenerator random) {
            once("random");
            this.random = Checks.notNull(random, "random");
            return this;
        }

        /** The monitor. */
        public HealthMonitor<K> build() {
            return new HealthMonitor<>(this);
        }
    }
}
