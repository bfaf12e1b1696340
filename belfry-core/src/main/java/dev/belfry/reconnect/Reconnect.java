package dev.belfry.reconnect;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.OverloadedException;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.backoff.Backoff;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * A service that creates its inner service from a {@link ServiceFactory} on first use, and creates
 * it again, with a {@link Backoff} between failed attempts, whenever it closes.
 *
 * <p>States: <em>idle</em> (nothing connected) → <em>connecting</em> → <em>connected</em>. A failed
 * connect moves to <em>backing off</em> until {@code clock time + backoff.delay(consecutive
 * failures)}; the next attempt starts after that deadline, either on the next use or, if calls are
 * waiting, by one timer at the deadline. When the connected service reports {@link
 * Readiness#CLOSED}, or a call to it fails with {@link ServiceClosedException}, it is closed and
 * dropped, and the next use connects again (without backoff: that connection had succeeded).
 *
 * <p>A call made while there is no connection either waits for the attempt ({@link Policy#WAIT},
 * the default) or fails at once ({@link Policy#FAIL_FAST}) with {@link NotConnectedException}
 * while connecting, or {@link ConnectFailedException} carrying the last connect error while
 * backing off. When an attempt fails, every call waiting for it fails with {@link
 * ConnectFailedException} whose cause is the factory's error; calls made during the backoff wait
 * for the next attempt. Waiting calls are sent in arrival order once connected; at most {@link
 * Builder#maxWaiting} wait (1024 by default), and more fail at once with {@link
 * OverloadedException}.
 *
 * <p>{@link #tryCall} never queues a request; when idle (or past the backoff deadline) it starts a
 * connect attempt, so a caller that only uses {@code tryCall} still gets connected, and admits the
 * request only if the connection is up and the inner service admits it now. {@link #whenReady}
 * likewise starts an attempt when idle. {@link #connectNow} connects before the first request.
 *
 * <p>Thread-safe. No lock is held while the factory or the inner service is called. Cancelling a
 * waiting call withdraws only that call; the connect attempt goes on for the others. Cancelling a
 * sent call cancels the inner call.
 */
public final class Reconnect<Req, Res> implements Service<Req, Res> {

    /** What a call does when there is no connection to send it on. */
    public enum Policy {
        /** Wait for the current or next connect attempt. */
        WAIT,
        /**
         * Fail at once: with {@link NotConnectedException} while connecting, with {@link
         * ConnectFailedException} while backing off after a failed connect.
         */
        FAIL_FAST
    }

    private enum State {
        IDLE,
        CONNECTING,
        CONNECTED,
        BACKING_OFF,
        CLOSED
    }

    /** The floor of the default backoff. */
    public static final Duration DEFAULT_MIN_BACKOFF = Duration.ofMillis(100);

    /** The ceiling of the default backoff. */
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(10);

    /** How many calls may wait for a connection, by default. */
    public static final int DEFAULT_MAX_WAITING = 1024;

    private final ServiceFactory<Req, Res> factory;
    private final Backoff backoff;
    private final Clock clock;
    private final Policy policy;
    private final int maxWaiting;

    // Guards every field below.
    private final Object lock = new Object();
    private State state = State.IDLE;
    // The connected inner service, in a holder so "still the same connection" is an identity check.
    private @Nullable Connection<Req, Res> inner;
    private @Nullable Attempt<Req, Res> attempt;
    // In arrival order; a set, so a withdrawn waiter leaves in constant time.
    private final LinkedHashSet<Waiter<Req, Res>> waiters = new LinkedHashSet<>();
    // True while waiters are being sent on a fresh connection: new calls queue behind them.
    private boolean dispatching;
    private int failures;
    private @Nullable Throwable lastFailure;
    private long retryAt;
    private Clock.@Nullable Scheduled retryTimer;
    private long retryGeneration;
    private boolean connectRequested;
    private @Nullable CompletableFuture<Void> readySignal;

    private Reconnect(ServiceFactory<Req, Res> factory, Backoff backoff, Clock clock, Policy policy, int maxWaiting) {
        this.factory = factory;
        this.backoff = backoff;
        this.clock = clock;
        this.policy = policy;
        this.maxWaiting = maxWaiting;
    }

    /** A builder for a reconnecting service that makes its inner services with {@code factory}. */
    public static <Req, Res> Builder<Req, Res> builder(ServiceFactory<Req, Res> factory) {
        return new Builder<>(Checks.notNull(factory, "factory"));
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        boolean checkInner = true;
        while (true) {
            Connection<Req, Res> connected = null;
            Attempt<Req, Res> launch = null;
            Waiter<Req, Res> waiter = null;
            synchronized (lock) {
                if (state == State.CLOSED) {
                    return Futures.failed(new ServiceClosedException("reconnect is closed"));
                } else if (waiters.size() >= maxWaiting && (state != State.CONNECTED || dispatching)) {
                    return Futures.failed(new OverloadedException(
                            maxWaiting + " calls already wait for a connection; the request was not sent"));
                } else if (state == State.CONNECTED) {
                    if (dispatching) {
                        waiter = addWaiterLocked(request);
                    } else {
                        connected = inner;
                    }
                } else if (state == State.CONNECTING) {
                    if (policy == Policy.FAIL_FAST) {
                        return Futures.failed(new NotConnectedException("still connecting; the request was not sent"));
                    }
                    waiter = addWaiterLocked(request);
                } else if (state == State.BACKING_OFF && !retryDueLocked()) {
                    if (policy == Policy.FAIL_FAST) {
                        return Futures.failed(new ConnectFailedException(lastFailureLocked()));
                    }
                    waiter = addWaiterLocked(request);
                    armRetryTimerLocked();
                } else {
                    // Idle, or the backoff deadline has passed: this call starts the next attempt.
                    launch = startAttemptLocked();
                    waiter = addWaiterLocked(request);
                }
            }
            if (waiter != null) {
                Waiter<Req, Res> registered = waiter;
                registered.result.whenComplete((response, failure) -> withdraw(registered));
                if (launch != null) {
                    launch(launch);
                    // Under FAIL_FAST the call waits only for an attempt that finished at once.
                    if (policy == Policy.FAIL_FAST && withdraw(registered)) {
                        registered.result.completeExceptionally(
                                new NotConnectedException("still connecting; the request was not sent"));
                    }
                }
                return registered.result;
            }
            Connection<Req, Res> link = Checks.notNull(connected, "inner");
            Service<Req, Res> service = link.service;
            if (checkInner && readinessOf(service) == Readiness.CLOSED) {
                // Check once only, so a factory that hands out closed services cannot loop us.
                checkInner = false;
                drop(link);
                continue;
            }
            return send(link, request);
        }
    }

    /**
     * Admits the request only if connected and the inner service admits it now; when idle or past
     * the backoff deadline, starts a connect attempt first (so callers that only use {@code
     * tryCall} still get connected) and admits only if that attempt finished at once.
     */
    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        Connection<Req, Res> connected = null;
        Attempt<Req, Res> launch = null;
        synchronized (lock) {
            if (state == State.CONNECTED && !dispatching) {
                connected = inner;
            } else if (state == State.IDLE || (state == State.BACKING_OFF && retryDueLocked())) {
                launch = startAttemptLocked();
            } else {
                return null;
            }
        }
        if (launch != null) {
            launch(launch);
            synchronized (lock) {
                if (state != State.CONNECTED || dispatching) {
                    return null;
                }
                connected = inner;
            }
        }
        Connection<Req, Res> link = Checks.notNull(connected, "inner");
        Service<Req, Res> service = link.service;
        if (readinessOf(service) == Readiness.CLOSED) {
            drop(link);
            return null;
        }
        CompletableFuture<Res> admitted;
        try {
            admitted = service.tryCall(request);
        } catch (RuntimeException | Error e) {
            admitted = Futures.failed(e);
        }
        if (admitted != null) {
            watch(link, admitted);
        }
        return admitted;
    }

    /**
     * Starts connecting now unless connected, connecting or closed; while backing off, arranges the
     * attempt for the backoff deadline. Does not wait.
     */
    public void connectNow() {
        connectNow(true);
    }

    private void connectNow(boolean checkInner) {
        Connection<Req, Res> connected = null;
        Attempt<Req, Res> launch = null;
        synchronized (lock) {
            if (state == State.CONNECTED) {
                connected = inner;
            } else if (state == State.IDLE || (state == State.BACKING_OFF && retryDueLocked())) {
                launch = startAttemptLocked();
            } else if (state == State.BACKING_OFF) {
                connectRequested = true;
                armRetryTimerLocked();
            }
        }
        if (launch != null) {
            launch(launch);
        } else if (connected != null && checkInner && readinessOf(connected.service) == Readiness.CLOSED) {
            drop(connected);
            connectNow(false);
        }
    }

    /**
     * {@code READY} when connected and the inner service is ready; {@code BUSY} when idle,
     * connecting, backing off, or when the inner service is busy or has closed (a call would
     * reconnect); {@code CLOSED} once closed.
     */
    @Override
    public Readiness readiness() {
        Connection<Req, Res> connected;
        synchronized (lock) {
            if (state == State.CLOSED) {
                return Readiness.CLOSED;
            }
            if (state != State.CONNECTED || dispatching) {
                return Readiness.BUSY;
            }
            connected = inner;
        }
        Readiness readiness = readinessOf(Checks.notNull(connected, "inner").service);
        return readiness == Readiness.CLOSED ? Readiness.BUSY : readiness;
    }

    /**
     * Completes when the connection comes up (or an attempt fails), when the connected inner service
     * may have become ready, or on close. When idle it starts connecting; while backing off it
     * arranges the next attempt for the deadline.
     */
    @Override
    public CompletionStage<Void> whenReady() {
        boolean checkInner = true;
        while (true) {
            Connection<Req, Res> connected;
            Attempt<Req, Res> launch = null;
            CompletableFuture<Void> signal;
            synchronized (lock) {
                if (state == State.CLOSED || (state == State.CONNECTED && dispatching)) {
                    // Dispatching lasts only while waiters are handed on; a spurious wake-up is fine.
                    return CompletableFuture.completedFuture(null);
                }
                if (state == State.CONNECTED) {
                    connected = inner;
                    signal = null;
                } else {
                    connected = null;
                    if (state == State.IDLE || (state == State.BACKING_OFF && retryDueLocked())) {
                        launch = startAttemptLocked();
                    } else if (state == State.BACKING_OFF) {
                        armRetryTimerLocked();
                    }
                    if (readySignal == null) {
                        readySignal = new CompletableFuture<>();
                    }
                    signal = readySignal;
                }
            }
            if (signal != null) {
                if (launch != null) {
                    launch(launch);
                }
                // A copy, so one caller cannot complete or cancel the signal others share.
                return signal.copy();
            }
            Connection<Req, Res> link = Checks.notNull(connected, "inner");
            Service<Req, Res> service = link.service;
            if (checkInner && readinessOf(service) == Readiness.CLOSED) {
                checkInner = false;
                drop(link);
                continue;
            }
            try {
                return service.whenReady();
            } catch (RuntimeException e) {
                return CompletableFuture.completedFuture(null);
            }
        }
    }

    /**
     * Closes the connected inner service, cancels a connect in progress and the retry timer, and
     * fails waiting calls with {@link ServiceClosedException}.
     */
    @Override
    public void close() {
        Connection<Req, Res> connected;
        CompletionStage<Service<Req, Res>> connecting = null;
        List<Waiter<Req, Res>> abandoned;
        CompletableFuture<Void> signal;
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            connected = inner;
            inner = null;
            if (attempt != null) {
                connecting = attempt.stage;
                attempt = null;
            }
            abandoned = new ArrayList<>(waiters);
            waiters.clear();
            dispatching = false;
            cancelRetryTimerLocked();
            signal = readySignal;
            readySignal = null;
        }
        if (connecting != null) {
            cancel(connecting);
        }
        for (Waiter<Req, Res> waiter : abandoned) {
            waiter.result.completeExceptionally(
                    new ServiceClosedException("reconnect closed before the request was sent"));
        }
        if (signal != null) {
            signal.complete(null);
        }
        if (connected != null) {
            connected.service.close();
        }
    }

    /** What a call does when there is no connection. */
    public Policy policy() {
        return policy;
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "Reconnect[" + state + ", failures=" + failures + ", waiting=" + waiters.size() + "]";
        }
    }

    private Waiter<Req, Res> addWaiterLocked(Req request) {
        Waiter<Req, Res> waiter = new Waiter<>(request);
        waiters.add(waiter);
        return waiter;
    }

    private Attempt<Req, Res> startAttemptLocked() {
        Attempt<Req, Res> started = new Attempt<>();
        state = State.CONNECTING;
        attempt = started;
        connectRequested = false;
        cancelRetryTimerLocked();
        return started;
    }

    /** Calls the factory for {@code started}; outside the lock, since it is foreign code. */
    private void launch(Attempt<Req, Res> started) {
        CompletionStage<Service<Req, Res>> stage;
        try {
            stage = factory.connect();
        } catch (RuntimeException | Error e) {
            settle(started, null, e);
            return;
        }
        if (stage == null) {
            settle(started, null, new NullPointerException("service factory returned a null stage"));
            return;
        }
        boolean abandoned;
        synchronized (lock) {
            started.stage = stage;
            // Only close() replaces the attempt before it settles; it could not cancel what it
            // did not have yet.
            abandoned = attempt != started;
        }
        if (abandoned) {
            cancel(stage);
        }
        stage.whenComplete((service, failure) -> settle(started, service, failure));
    }

    private void settle(Attempt<Req, Res> finished, @Nullable Service<Req, Res> service, @Nullable Throwable failure) {
        Throwable cause = failure != null
                ? Futures.unwrap(failure)
                : service == null ? new NullPointerException("service factory completed with a null service") : null;
        List<Waiter<Req, Res>> failed = List.of();
        CompletableFuture<Void> signal = null;
        boolean stale = false;
        Connection<Req, Res> dispatch = null;
        synchronized (lock) {
            if (attempt != finished) {
                stale = true;
            } else {
                attempt = null;
                if (cause == null) {
                    state = State.CONNECTED;
                    Connection<Req, Res> connection = new Connection<>(Checks.notNull(service, "service"));
                    inner = connection;
                    failures = 0;
                    lastFailure = null;
                    dispatching = !waiters.isEmpty();
                    dispatch = dispatching ? connection : null;
                } else {
                    if (failures < Integer.MAX_VALUE) {
                        failures++;
                    }
                    lastFailure = cause;
                    retryAt = clock.nanoTime() + delayNanos(failures);
                    state = State.BACKING_OFF;
                    failed = new ArrayList<>(waiters);
                    waiters.clear();
                }
                signal = readySignal;
                readySignal = null;
            }
        }
        if (stale) {
            if (cause == null && service != null) {
                // Closed while connecting and the factory delivered anyway: nobody will use it.
                service.close();
            }
            return;
        }
        for (Waiter<Req, Res> waiter : failed) {
            waiter.result.completeExceptionally(new ConnectFailedException(Checks.notNull(cause, "cause")));
        }
        if (signal != null) {
            signal.complete(null);
        }
        if (dispatch != null) {
            dispatch(dispatch);
        }
    }

    /** Sends waiting calls on {@code service}, in order, until none is left. */
    private void dispatch(Connection<Req, Res> connection) {
        while (true) {
            List<Waiter<Req, Res>> batch;
            synchronized (lock) {
                if (!isConnectedLocked(connection)) {
                    // Dropped or closed meanwhile: whoever changed the state took over the waiters.
                    return;
                }
                if (waiters.isEmpty()) {
                    dispatching = false;
                    return;
                }
                batch = new ArrayList<>(waiters);
                waiters.clear();
            }
            for (Waiter<Req, Res> waiter : batch) {
                if (waiter.result.isDone()) {
                    continue; // cancelled while waiting: it must not be sent
                }
                CompletableFuture<Res> sent = send(connection, waiter.request);
                sent.whenComplete((response, failure) -> Futures.completeFrom(waiter.result, response, failure));
                Futures.propagateCancellation(waiter.result, sent);
            }
        }
    }

    private CompletableFuture<Res> send(Connection<Req, Res> connection, Req request) {
        CompletableFuture<Res> sent = Futures.call(connection.service, request);
        watch(connection, sent);
        return sent;
    }

    /** Drops {@code connection} if a call on it fails because its service closed. */
    private void watch(Connection<Req, Res> connection, CompletableFuture<Res> sent) {
        sent.whenComplete((response, failure) -> {
            if (failure != null && Futures.unwrap(failure) instanceof ServiceClosedException) {
                drop(connection);
            }
        });
    }

    /** Closes and forgets {@code connection} if it is still the connected one. */
    private void drop(Connection<Req, Res> connection) {
        Attempt<Req, Res> launch = null;
        synchronized (lock) {
            if (!isConnectedLocked(connection)) {
                return;
            }
            inner = null;
            dispatching = false;
            state = State.IDLE;
            if (!waiters.isEmpty()) {
                // Calls queued behind a dispatch now wait for the new connection.
                launch = startAttemptLocked();
            }
        }
        connection.service.close();
        if (launch != null) {
            launch(launch);
        }
    }

    private boolean isConnectedLocked(Connection<Req, Res> connection) {
        return state == State.CONNECTED && inner == connection;
    }

    private boolean withdraw(Waiter<Req, Res> waiter) {
        synchronized (lock) {
            boolean removed = waiters.remove(waiter);
            if (removed && state == State.BACKING_OFF && !retryWantedLocked()) {
                // Nobody waits for the next attempt any more: it can start lazily on the next use.
                cancelRetryTimerLocked();
            }
            return removed;
        }
    }

    private boolean retryDueLocked() {
        return clock.nanoTime() - retryAt >= 0;
    }

    private boolean retryWantedLocked() {
        return !waiters.isEmpty() || readySignal != null || connectRequested;
    }

    private void armRetryTimerLocked() {
        if (retryTimer != null) {
            return;
        }
        long generation = ++retryGeneration;
        long remaining = Math.max(0, retryAt - clock.nanoTime());
        retryTimer = clock.schedule(Duration.ofNanos(remaining), () -> onRetryDue(generation));
    }

    private void cancelRetryTimerLocked() {
        if (retryTimer != null) {
            retryTimer.cancel();
            retryTimer = null;
        }
    }

    private void onRetryDue(long generation) {
        Attempt<Req, Res> launch = null;
        synchronized (lock) {
            if (generation != retryGeneration || retryTimer == null || state != State.BACKING_OFF) {
                return;
            }
            retryTimer = null;
            if (retryWantedLocked()) {
                launch = startAttemptLocked();
            }
        }
        if (launch != null) {
            launch(launch);
        }
    }

    private Throwable lastFailureLocked() {
        Throwable failure = lastFailure;
        return failure != null ? failure : new IllegalStateException("no connect error recorded");
    }

    private long delayNanos(int attempt) {
        try {
            long nanos = backoff.delay(attempt).toNanos();
            // Capped so deadline arithmetic on the monotonic clock cannot overflow.
            return Math.min(Math.max(0, nanos), Long.MAX_VALUE / 4);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 4;
        } catch (RuntimeException e) {
            // A broken backoff must not wedge the service; retry on the next use instead.
            return 0;
        }
    }

    private static Readiness readinessOf(Service<?, ?> service) {
        try {
            return service.readiness();
        } catch (RuntimeException e) {
            return Readiness.BUSY;
        }
    }

    private static void cancel(CompletionStage<?> stage) {
        try {
            stage.toCompletableFuture().cancel(false);
        } catch (UnsupportedOperationException e) {
            // A stage that cannot be cancelled runs to its end; settle() closes what it delivers.
        }
    }

    /**
     * Builds a {@link Reconnect}. Each setting may be made once; unset ones take their defaults.
     *
     * @param <Req> the request type
     * @param <Res> the response type
     */
    public static final class Builder<Req, Res> {
        private final ServiceFactory<Req, Res> factory;
        private @Nullable Backoff backoff;
        private @Nullable Clock clock;
        private @Nullable Policy policy;
        private @Nullable Integer maxWaiting;

        private Builder(ServiceFactory<Req, Res> factory) {
            this.factory = factory;
        }

        /**
         * The wait between failed connect attempts, given the count of consecutive failures (from 1).
         * Default: exponential with full jitter from {@link #DEFAULT_MIN_BACKOFF} to {@link
         * #DEFAULT_MAX_BACKOFF}.
         */
        public Builder<Req, Res> backoff(Backoff backoff) {
            Checks.notSetTwice(this.backoff, "backoff");
            this.backoff = Checks.notNull(backoff, "backoff");
            return this;
        }

        /** The clock for backoff deadlines and the retry timer. Default: {@link Clock#system()}. */
        public Builder<Req, Res> clock(Clock clock) {
            Checks.notSetTwice(this.clock, "clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /** What a call does when there is no connection. Default: {@link Policy#WAIT}. */
        public Builder<Req, Res> policy(Policy policy) {
            Checks.notSetTwice(this.policy, "policy");
            this.policy = Checks.notNull(policy, "policy");
            return this;
        }

        /**
         * How many calls may wait for a connection under {@link Policy#WAIT} (default {@value
         * #DEFAULT_MAX_WAITING}); more fail at once with {@link OverloadedException}, so a
         * backend that is down cannot make callers pile up without bound.
         */
        public Builder<Req, Res> maxWaiting(int maxWaiting) {
            Checks.notSetTwice(this.maxWaiting, "maxWaiting");
            this.maxWaiting = Checks.positive(maxWaiting, "maxWaiting");
            return this;
        }

        /** A new, idle reconnecting service: it connects on first use or {@link #connectNow}. */
        public Reconnect<Req, Res> build() {
            Backoff chosenBackoff = backoff != null
                    ? backoff
                    : Backoff.exponential(DEFAULT_MIN_BACKOFF, DEFAULT_MAX_BACKOFF, ThreadLocalRandom.current());
            return new Reconnect<>(
                    factory,
                    chosenBackoff,
                    clock != null ? clock : Clock.system(),
                    policy != null ? policy : Policy.WAIT,
                    maxWaiting != null ? maxWaiting : DEFAULT_MAX_WAITING);
        }
    }

    private static final class Waiter<Req, Res> {
        final Req request;
        final CompletableFuture<Res> result = new CompletableFuture<>();

        Waiter(Req request) {
            this.request = request;
        }
    }

    /** One successful connect: compared by identity, whatever the service's own equals says. */
    private static final class Connection<Req, Res> {
        final Service<Req, Res> service;

        Connection(Service<Req, Res> service) {
            this.service = service;
        }
    }

    private static final class Attempt<Req, Res> {
        // Guarded by the Reconnect's lock; null until the factory has returned.
        @Nullable
        CompletionStage<Service<Req, Res>> stage;
    }
}
