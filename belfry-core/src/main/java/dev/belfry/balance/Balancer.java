package dev.belfry.balance;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.discover.Change;
import dev.belfry.discover.Discover;
import dev.belfry.internal.SerialExecutor;
import dev.belfry.load.Load;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * A service that spreads requests over a discovered set of endpoints, each itself a service.
 *
 * <p>The endpoints come from a {@link Discover}; each insert makes a service (with the builder's
 * {@code connect} function), an update replaces it in place and a removal takes it out of the
 * rotation at once. A replaced or removed endpoint keeps the requests it already has and is closed
 * when the last of them completes. Changes are applied on the balancer's own serial executor as
 * they arrive, with or without traffic.
 *
 * <p>Each request goes to an endpoint chosen by the strategy (power of two choices over Peak-EWMA
 * by default; see {@link Builder}) and is admitted with {@link Service#tryCall}, so admission is
 * exact: an endpoint that is busy, unhealthy or closed is skipped and the next choice is tried.
 * When no endpoint can admit, {@link #call} waits until one can, for at most {@link
 * Builder#maxWait} (5 s by default), then fails with {@link NoEndpointsException}; with {@link
 * Builder#failFast} it fails at once. {@link #tryCall} never waits. Waiting requests are admitted
 * in arrival order as endpoints free up; a new request that finds an endpoint free is admitted at
 * once.
 *
 * <p><b>Avoiding endpoints.</b> {@link #route} and {@link #tryRoute} take, besides the request, an
 * immutable set of endpoint keys to avoid (those a retry already tried, say): the strategy chooses
 * among the other endpoints first, and turns to an avoided one only when no other can admit now.
 * They answer with a {@link Routed}: the key of the endpoint that admitted the request, and its
 * response. {@link RetryElsewhere} is built on them.
 *
 * <p>Thread-safe. The request path reads an immutable endpoint snapshot swapped atomically on each
 * change and takes no lock (except smooth weighted round robin's running weights). Cancelling a
 * request cancels the endpoint's call, or withdraws it while it waits. {@link #close} stops
 * discovery, closes every endpoint and fails waiting requests with {@link ServiceClosedException}.
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
public final class Balancer<Req, Res> implements Service<Req, Res> {
    private static final System.Logger LOG = System.getLogger(Balancer.class.getName());

    /** The default longest wait for an endpoint to admit a request. */
    public static final Duration DEFAULT_MAX_WAIT = Duration.ofSeconds(5);

    // How soon to look again when an endpoint said READY but refused: a race, or a broken service.
    private static final Duration RECHECK = Duration.ofMillis(1);

    // The endpoint named when a strategy failed before any endpoint admitted the request.
    private static final Object NO_ENDPOINT = "(none)";

    private final Strategy<Req, Res> strategy;
    private final Clock clock;
    private final RandomGenerator random;
    private final @Nullable Duration maxWait;
    private final long slowStartNanos;
    private final SerialExecutor serial = new SerialExecutor(
            failure -> LOG.log(System.Logger.Level.ERROR, "balancer task failed; the balancer goes on", failure));
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Snapshot<Req, Res> snapshot;

    // Confined to the serial executor.
    private final Map<Object, Endpoint<Req, Res>> endpoints = new LinkedHashMap<>();
    private final Set<Endpoint<Req, Res>> retiring = new HashSet<>();
    private final ArrayDeque<Waiter<Req, Res>> waiters = new ArrayDeque<>();
    private final List<CompletableFuture<Void>> readySignals = new ArrayList<>();
    private long armed = -1;
    private long generation;
    private Clock.@Nullable Scheduled recheck;
    private boolean building = true;
    private @Nullable RuntimeException buildFailure;

    private final Discover.Subscription subscription;

    private <K, V> Balancer(Builder<K, V, Req, Res> builder) {
        this.strategy = builder.strategy != null ? builder.strategy : new Strategy.P2c<>(null);
        BiFunction<? super K, ? super V, ? extends Service<Req, Res>> connect = builder.connect;
        ToIntFunction<? super V> weigher = builder.weigher;
        this.clock = builder.clock;
        this.random = builder.random;
        this.maxWait = builder.failFast ? null : builder.maxWait;
        this.slowStartNanos = builder.slowStart == null ? 0 : builder.slowStart.toNanos();
        this.snapshot = new Snapshot<>(List.of(), strategy.picker(List.of()));
        this.subscription = builder.discover.subscribe(change -> serial.execute(() -> apply(change, connect, weigher)));
        serial.execute(() -> building = false);
        RuntimeException failure = buildFailure;
        if (failure != null) {
            close();
            throw failure;
        }
    }

    /**
     * A builder of balancers over {@code discover}, whose values are the endpoint services
     * themselves; the balancer closes them when they leave the set.
     */
    public static <K, V extends Service<Req, Res>, Req, Res> Builder<K, V, Req, Res> builder(Discover<K, V> discover) {
        return new Builder<>(discover, (key, service) -> service);
    }

    /**
     * A builder of balancers over {@code discover}, making each endpoint's service with {@code
     * connect} (called on the balancer's serial executor, so it must not block); the balancer
     * closes what it made when the endpoint leaves the set or is updated.
     */
    public static <K, V, Req, Res> Builder<K, V, Req, Res> builder(
            Discover<K, V> discover, BiFunction<? super K, ? super V, ? extends Service<Req, Res>> connect) {
        return new Builder<>(discover, connect);
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        if (closed.get()) {
            return Futures.failed(new ServiceClosedException("balancer is closed"));
        }
        CompletableFuture<Res> admitted;
        try {
            admitted = pick(request, null);
        } catch (RuntimeException | Error e) {
            return Futures.failed(e);
        }
        if (admitted != null) {
            return admitted;
        }
        Duration wait = maxWait;
        if (wait == null) {
            return Futures.failed(noEndpoints("at once"));
        }
        CompletableFuture<Res> result = new CompletableFuture<>();
        Waiter<Req, Res> waiter = new Waiter<>(request, Set.of(), result, routed -> {
            CompletableFuture<Res> inner = routed.response();
            inner.whenComplete((response, failure) -> Futures.completeFrom(result, response, failure));
            Futures.propagateCancellation(result, inner);
        });
        enqueue(waiter, wait);
        return result;
    }

    /**
     * Admits {@code request} on an endpoint whose key is not in {@code avoid} if one can admit it,
     * else on an avoided one, waiting (as {@link #call} does) if none can admit now.
     *
     * <p>The returned future completes once an endpoint admitted the request, with that endpoint's
     * key and the response future; it fails with {@link NoEndpointsException} (unprocessed) if no
     * endpoint admitted it within {@link Builder#maxWait}, or with {@link ServiceClosedException}.
     * Cancelling it while it waits withdraws the request; once it has completed, cancel the
     * response instead. {@code avoid} is only read: the balancer never changes or keeps it.
     */
    public CompletableFuture<Routed<Res>> route(Req request, Set<?> avoid) {
        Checks.notNull(avoid, "avoid");
        if (closed.get()) {
            return Futures.failed(new ServiceClosedException("balancer is closed"));
        }
        Routed<Res> admitted;
        try {
            admitted = pickRouted(request, avoid);
        } catch (RuntimeException | Error e) {
            return Futures.failed(e);
        }
        if (admitted != null) {
            return CompletableFuture.completedFuture(admitted);
        }
        Duration wait = maxWait;
        if (wait == null) {
            return Futures.failed(noEndpoints("at once"));
        }
        CompletableFuture<Routed<Res>> result = new CompletableFuture<>();
        Waiter<Req, Res> waiter = new Waiter<>(request, avoid, result, routed -> {
            if (!result.complete(routed)) {
                // The caller withdrew just as an endpoint admitted the request.
                routed.response().cancel(false);
            }
        });
        enqueue(waiter, wait);
        return result;
    }

    /**
     * Admits {@code request} now on an endpoint whose key is not in {@code avoid}, or failing that
     * on an avoided one; returns null, having done nothing, if no endpoint can admit it now.
     *
     * @see #route
     */
    public @Nullable Routed<Res> tryRoute(Req request, Set<?> avoid) {
        Checks.notNull(avoid, "avoid");
        if (closed.get()) {
            return null;
        }
        try {
            return pickRouted(request, avoid);
        } catch (RuntimeException | Error e) {
            return new Routed<>(NO_ENDPOINT, Futures.failed(e));
        }
    }

    private void enqueue(Waiter<Req, Res> waiter, Duration wait) {
        // The wait ends on the serial executor, where dispatch happens too: a request handed to an
        // endpoint can no longer time out here (it reached the endpoint, so it is not unprocessed).
        waiter.timer = clock.schedule(wait, () -> serial.execute(() -> expire(waiter, wait)));
        waiter.result.whenComplete((response, failure) -> {
            Clock.Scheduled timer = waiter.timer;
            if (timer != null) {
                timer.cancel();
            }
            if (waiter.result.isCancelled()) {
                serial.execute(() -> forget(waiter));
            }
        });
        serial.execute(() -> {
            if (closed.get()) {
                waiter.result.completeExceptionally(new ServiceClosedException("balancer is closed"));
                return;
            }
            waiters.add(waiter);
            drainWaiters();
        });
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        if (closed.get()) {
            return null;
        }
        try {
            return pick(request, null);
        } catch (RuntimeException | Error e) {
            return Futures.failed(e);
        }
    }

    /** Ready if any endpoint is ready; busy while none is (or the set is empty); closed after {@link #close}. */
    @Override
    public Readiness readiness() {
        if (closed.get()) {
            return Readiness.CLOSED;
        }
        for (Endpoint<Req, Res> endpoint : snapshot.endpoints) {
            if (endpoint.service.readiness() == Readiness.READY) {
                return Readiness.READY;
            }
        }
        return Readiness.BUSY;
    }

    /** Completes when an endpoint may have become ready or the endpoint set changed. */
    @Override
    public CompletionStage<Void> whenReady() {
        if (readiness() != Readiness.BUSY) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> signal = new CompletableFuture<>();
        serial.execute(() -> {
            if (readiness() != Readiness.BUSY) {
                signal.complete(null);
                return;
            }
            readySignals.add(signal);
            arm();
        });
        return signal;
    }

    /** Stops discovery, closes every endpoint and fails waiting requests. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        subscription.close();
        serial.execute(() -> {
            for (Endpoint<Req, Res> endpoint : endpoints.values()) {
                endpoint.retired = true;
                endpoint.closeOnce();
            }
            for (Endpoint<Req, Res> endpoint : retiring) {
                endpoint.closeOnce();
            }
            endpoints.clear();
            retiring.clear();
            snapshot = new Snapshot<>(List.of(), strategy.picker(List.of()));
            Waiter<Req, Res> waiter;
            while ((waiter = waiters.poll()) != null) {
                waiter.result.completeExceptionally(new ServiceClosedException("balancer is closed"));
            }
            cancelRecheck();
            signalReady();
        });
    }

    /**
     * Starts endpoint {@code key}'s slow start over, as if it had just been added: its share drops
     * to a tenth and grows back over the slow-start window. For an endpoint that returns to rotation
     * after being unhealthy or ejected, so that it is not flooded at once. Does nothing without
     * {@link Builder#slowStart} or for a key not in the set. Thread-safe.
     */
    public void restartSlowStart(Object key) {
        if (slowStartNanos == 0) {
            return;
        }
        serial.execute(() -> {
            Endpoint<Req, Res> endpoint = endpoints.get(key);
            if (endpoint != null) {
                endpoint.addedAt = clock.nanoTime();
            }
        });
    }

    /** The endpoints in rotation now, with their weights, in-flight counts and loads. */
    public List<EndpointStats> endpoints() {
        List<EndpointStats> stats = new ArrayList<>();
        for (Endpoint<Req, Res> endpoint : snapshot.endpoints) {
            stats.add(new EndpointStats(
                    endpoint.key,
                    endpoint.weight,
                    endpoint.inflight.get(),
                    endpoint.loaded != null ? endpoint.loaded.load() : endpoint.inflight.get(),
                    endpoint.service.readiness()));
        }
        return List.copyOf(stats);
    }

    @Override
    public String toString() {
        return "Balancer[" + strategy.getClass().getSimpleName() + ", " + snapshot.endpoints.size() + " endpoints]";
    }

    // ---- the request path -------------------------------------------------------------------

    private @Nullable CompletableFuture<Res> pick(Req request, @Nullable Pick pick) {
        return snapshot.picker.pick(request, this, pick);
    }

    /** Picks among the endpoints not avoided, then, if none admitted, among all of them. */
    private @Nullable Routed<Res> pickRouted(Req request, Set<?> avoid) {
        Strategy.Picker<Req, Res> picker = snapshot.picker;
        Pick pick = new Pick(avoid);
        CompletableFuture<Res> admitted = picker.pick(request, this, pick);
        if (admitted == null && !avoid.isEmpty()) {
            pick = new Pick(Set.of());
            admitted = picker.pick(request, this, pick);
        }
        return admitted == null ? null : new Routed<>(Checks.notNull(pick.admittedBy, "admitting endpoint"), admitted);
    }

    /**
     * One pick of an endpoint for a request: the keys it must skip, and the key of the endpoint
     * that admitted it. Confined to the thread picking.
     */
    static final class Pick {
        private final Set<?> avoid;

        @Nullable
        Object admittedBy;

        Pick(Set<?> avoid) {
            this.avoid = avoid;
        }

        boolean avoids(Endpoint<?, ?> endpoint) {
            return !avoid.isEmpty() && avoid.contains(endpoint.key);
        }

        boolean avoidsAny() {
            return !avoid.isEmpty();
        }
    }

    RandomGenerator random() {
        return random;
    }

    long now() {
        return clock.nanoTime();
    }

    /** The fraction of its full share an endpoint gets now: below 1 while it slow-starts. */
    double share(Endpoint<Req, Res> endpoint, long now) {
        if (slowStartNanos == 0) {
            return 1;
        }
        long age = now - endpoint.addedAt;
        if (age >= slowStartNanos) {
            return 1;
        }
        // Never zero, so a new endpoint is still chosen now and then and its load becomes known.
        return Math.max(0.1, (double) Math.max(0, age) / slowStartNanos);
    }

    /** Admits the request on {@code endpoint} if it can admit now; otherwise returns null. */
    @Nullable
    CompletableFuture<Res> tryAdmit(Endpoint<Req, Res> endpoint, Req request, @Nullable Pick pick) {
        if (pick != null && pick.avoids(endpoint)) {
            return null;
        }
        // Counted before asking, so a retiring endpoint never closes under an admission in progress.
        endpoint.inflight.incrementAndGet();
        if (endpoint.retired) {
            release(endpoint);
            return null;
        }
        CompletableFuture<Res> admitted;
        try {
            admitted = endpoint.service.tryCall(request);
        } catch (RuntimeException | Error e) {
            admitted = Futures.failed(e);
        }
        if (admitted == null) {
            release(endpoint);
            return null;
        }
        if (pick != null) {
            pick.admittedBy = endpoint.key;
        }
        CompletableFuture<Res> result = new CompletableFuture<>();
        admitted.whenComplete((response, failure) -> {
            release(endpoint);
            Futures.completeFrom(result, response, failure);
        });
        Futures.propagateCancellation(result, admitted);
        return result;
    }

    /** Tries every endpoint from {@code start} on, in order. */
    @Nullable
    CompletableFuture<Res> scan(List<Endpoint<Req, Res>> endpoints, int start, Req request, @Nullable Pick pick) {
        return scan(endpoints, start, request, pick, null, null);
    }

    /** Tries every endpoint from {@code start} on, in order, except the two already tried. */
    @Nullable
    CompletableFuture<Res> scan(
            List<Endpoint<Req, Res>> endpoints,
            int start,
            Req request,
            @Nullable Pick pick,
            @Nullable Endpoint<Req, Res> tried,
            @Nullable Endpoint<Req, Res> alsoTried) {
        int n = endpoints.size();
        for (int k = 0; k < n; k++) {
            Endpoint<Req, Res> endpoint = endpoints.get((start + k) % n);
            if (endpoint == tried || endpoint == alsoTried) {
                continue;
            }
            CompletableFuture<Res> admitted = tryAdmit(endpoint, request, pick);
            if (admitted != null) {
                return admitted;
            }
        }
        return null;
    }

    private void release(Endpoint<Req, Res> endpoint) {
        if (endpoint.inflight.decrementAndGet() == 0 && endpoint.retired && endpoint.closeOnce()) {
            serial.execute(() -> retiring.remove(endpoint));
        }
    }

    private NoEndpointsException noEndpoints(String when) {
        List<Endpoint<Req, Res>> current = snapshot.endpoints;
        int ready = 0;
        for (Endpoint<Req, Res> endpoint : current) {
            if (endpoint.service.readiness() == Readiness.READY) {
                ready++;
            }
        }
        return new NoEndpointsException(
                "no endpoint admitted the request " + when + " (" + current.size() + " endpoints, " + ready + " ready)",
                current.size());
    }

    // ---- the serial side: discovery, waiters, wake-ups --------------------------------------

    private <K, V> void apply(
            Change<K, V> change,
            BiFunction<? super K, ? super V, ? extends Service<Req, Res>> connect,
            ToIntFunction<? super V> weigher) {
        if (closed.get()) {
            return;
        }
        // The change is worked out on a copy and committed only once its picker is built, so the
        // endpoint map and the routing snapshot never disagree, whatever user code throws.
        Map<Object, Endpoint<Req, Res>> next = new LinkedHashMap<>(endpoints);
        Endpoint<Req, Res> added = null;
        Endpoint<Req, Res> replaced;
        Strategy.Picker<Req, Res> picker;
        List<Endpoint<Req, Res>> list;
        try {
            switch (change) {
                case Change.Insert<K, V> insert -> {
                    added = endpoint(insert.key(), insert.value(), connect, weigher);
                    replaced = next.put(insert.key(), added);
                }
                case Change.Update<K, V> update -> {
                    added = endpoint(update.key(), update.value(), connect, weigher);
                    replaced = next.put(update.key(), added);
                }
                case Change.Remove<K, V> remove -> replaced = next.remove(remove.key());
            }
            list = List.copyOf(next.values());
            picker = strategy.picker(list);
        } catch (RuntimeException | Error e) {
            if (added != null) {
                added.retired = true;
                added.closeOnce();
            }
            if (building) {
                if (buildFailure == null) {
                    buildFailure = e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
                }
                return;
            }
            LOG.log(System.Logger.Level.WARNING, "could not apply " + change + "; endpoints left as they were", e);
            return;
        }
        endpoints.clear();
        endpoints.putAll(next);
        if (replaced != null) {
            retire(replaced);
        }
        snapshot = new Snapshot<>(list, picker);
        generation++;
        signalReady();
        drainWaiters();
    }

    private <K, V> Endpoint<Req, Res> endpoint(
            K key,
            V value,
            BiFunction<? super K, ? super V, ? extends Service<Req, Res>> connect,
            ToIntFunction<? super V> weigher) {
        int weight = weigher.applyAsInt(value);
        if (weight < 1) {
            throw new IllegalArgumentException("weight of endpoint " + key + " must be at least 1, was " + weight);
        }
        if (weight > 10_000) {
            throw new IllegalArgumentException("weight of endpoint " + key + " must be at most 10000, was " + weight);
        }
        Endpoint<Req, Res> old = endpoints.get(key);
        if (old == null && endpoints.size() >= 0xFFFF) {
            throw new IllegalStateException("a balancer holds at most 65535 endpoints; dropped " + key);
        }
        Service<Req, Res> service = Checks.notNull(connect.apply(key, value), "service made for endpoint " + key);
        // An update keeps the endpoint's age: it is the same endpoint, so slow start does not restart.
        long addedAt = old != null ? old.addedAt : clock.nanoTime();
        try {
            return new Endpoint<>(key, service, strategy.measure(service, clock), weight, addedAt);
        } catch (RuntimeException | Error e) {
            service.close();
            throw e;
        }
    }

    private void retire(Endpoint<Req, Res> endpoint) {
        endpoint.retired = true;
        if (endpoint.inflight.get() == 0) {
            endpoint.closeOnce();
        } else {
            // Closed by the last release; kept here so close() can still reach it.
            retiring.add(endpoint);
        }
    }

    private void drainWaiters() {
        while (!waiters.isEmpty()) {
            Waiter<Req, Res> waiter = waiters.peek();
            if (waiter.result.isDone()) {
                waiters.poll();
                continue;
            }
            Routed<Res> admitted;
            try {
                admitted = pickRouted(waiter.request, waiter.avoid);
            } catch (RuntimeException | Error e) {
                admitted = new Routed<>(NO_ENDPOINT, Futures.failed(e));
            }
            if (admitted == null) {
                break;
            }
            waiters.poll();
            waiter.dispatched = true;
            Clock.Scheduled timer = waiter.timer;
            if (timer != null) {
                timer.cancel();
            }
            waiter.dispatch.accept(admitted);
        }
        if (waiters.isEmpty() && readySignals.isEmpty()) {
            cancelRecheck();
        } else {
            arm();
        }
    }

    private void expire(Waiter<Req, Res> waiter, Duration wait) {
        if (waiter.dispatched || waiter.result.isDone()) {
            return;
        }
        forget(waiter);
        waiter.result.completeExceptionally(noEndpoints("within " + wait.toMillis() + " ms"));
    }

    private void forget(Waiter<Req, Res> waiter) {
        waiters.remove(waiter);
        if (waiters.isEmpty() && readySignals.isEmpty()) {
            cancelRecheck();
        }
    }

    /** Asks every busy endpoint to say when it may be ready; the first answer wakes the waiters. */
    private void arm() {
        if (armed == generation) {
            return;
        }
        long round = ++generation;
        armed = round;
        boolean readyButRefused = false;
        for (Endpoint<Req, Res> endpoint : snapshot.endpoints) {
            Readiness readiness = endpoint.service.readiness();
            if (readiness == Readiness.READY) {
                readyButRefused = true;
            } else if (readiness == Readiness.BUSY) {
                CompletableFuture<Void> ready;
                try {
                    ready = endpoint.service.whenReady().toCompletableFuture();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "whenReady of endpoint " + endpoint.key + " failed", e);
                    readyButRefused = true;
                    continue;
                }
                if (ready.isDone()) {
                    // Busy yet already signalled ready: looking again at once could spin, so poll.
                    readyButRefused = true;
                } else {
                    ready.whenComplete((ignored, failure) -> serial.execute(() -> wake(round)));
                }
            }
        }
        if (readyButRefused && recheck == null) {
            recheck = clock.schedule(
                    RECHECK,
                    () -> serial.execute(() -> {
                        recheck = null;
                        wake(generation);
                    }));
        }
    }

    private void wake(long round) {
        if (round != generation || closed.get()) {
            // A stale round: a later change or wake-up already re-armed.
            return;
        }
        generation++;
        signalReady();
        drainWaiters();
    }

    private void signalReady() {
        if (readySignals.isEmpty()) {
            return;
        }
        List<CompletableFuture<Void>> signals = List.copyOf(readySignals);
        readySignals.clear();
        for (CompletableFuture<Void> signal : signals) {
            signal.complete(null);
        }
    }

    private void cancelRecheck() {
        Clock.Scheduled pending = recheck;
        if (pending != null) {
            pending.cancel();
            recheck = null;
        }
    }

    /** An immutable endpoint list and the picker built for it, swapped as one. */
    private record Snapshot<Req, Res>(List<Endpoint<Req, Res>> endpoints, Strategy.Picker<Req, Res> picker) {}

    /** A call waiting for any endpoint to admit it. */
    private static final class Waiter<Req, Res> {
        final Req request;
        final Set<?> avoid;
        // What the caller holds: failed here if the wait ends without an endpoint.
        final CompletableFuture<?> result;
        // Hands the admitted request to the caller; runs on the serial executor.
        final Consumer<Routed<Res>> dispatch;
        volatile Clock.@Nullable Scheduled timer;
        // Set on the serial executor when an endpoint admits the request; read there only.
        boolean dispatched;

        Waiter(Req request, Set<?> avoid, CompletableFuture<?> result, Consumer<Routed<Res>> dispatch) {
            this.request = request;
            this.avoid = avoid;
            this.result = result;
            this.dispatch = dispatch;
        }
    }

    /**
     * Settings for a {@link Balancer}; each may be set once, and the strategy only once.
     *
     * @param <K> the endpoint id
     * @param <V> the endpoint description
     * @param <Req> the request type
     * @param <Res> the response type
     */
    public static final class Builder<K, V, Req, Res> {
        private final Discover<K, V> discover;
        private final BiFunction<? super K, ? super V, ? extends Service<Req, Res>> connect;
        private @Nullable Strategy<Req, Res> strategy;
        private String strategyName = "";
        private ToIntFunction<? super V> weigher = value -> 1;
        private boolean weigherSet;
        private Clock clock = Clock.system();
        private boolean clockSet;
        private RandomGenerator random = ThreadLocalRandom.current();
        private boolean randomSet;
        private Duration maxWait = DEFAULT_MAX_WAIT;
        private boolean maxWaitSet;
        private boolean failFast;
        private @Nullable Duration slowStart;

        private Builder(
                Discover<K, V> discover, BiFunction<? super K, ? super V, ? extends Service<Req, Res>> connect) {
            this.discover = Checks.notNull(discover, "discover");
            this.connect = Checks.notNull(connect, "connect");
        }

        /** Power of two random choices over Peak-EWMA on the balancer's clock: the default. */
        public Builder<K, V, Req, Res> p2c() {
            return strategy("p2c", new Strategy.P2c<>(null));
        }

        /**
         * Power of two random choices: of two endpoints drawn at random, the one with the lower
         * {@code load} divided by its weight share gets the request. With three endpoints (after
         * those a retry avoids) all three are compared instead, since a random pair of three holds
         * the worst one two times in three; ties go to a random one.
         */
        public Builder<K, V, Req, Res> p2c(Load<Req, Res> load) {
            return strategy("p2c", new Strategy.P2c<>(Checks.notNull(load, "load")));
        }

        /** Each endpoint in turn, skipping any that cannot admit; ignores weights. */
        public Builder<K, V, Req, Res> roundRobin() {
            return strategy("roundRobin", new Strategy.RoundRobin<>());
        }

        /** Smooth weighted round robin (nginx): in proportion to weight, interleaved. */
        public Builder<K, V, Req, Res> weightedRoundRobin() {
            return strategy("weightedRoundRobin", new Strategy.SmoothWeighted<>());
        }

        /** A random endpoint, with probability proportional to its weight. */
        public Builder<K, V, Req, Res> weightedRandom() {
            return strategy("weightedRandom", new Strategy.WeightedRandom<>());
        }

        /** The endpoint with the fewest requests in flight per unit of weight. */
        public Builder<K, V, Req, Res> leastConnections() {
            return strategy("leastConnections", new Strategy.LeastConnections<>());
        }

        /**
         * Consistent hashing on {@code key} with bounded load 1.25: requests with equal keys go to
         * the same endpoint, and a change of the set moves only about 1/N of the keys.
         */
        public Builder<K, V, Req, Res> consistentHash(Function<? super Req, ?> key) {
            return consistentHash(key, 1.25);
        }

        /**
         * Consistent hashing on {@code key}; an endpoint with more than {@code loadFactor} times the
         * average requests in flight passes new ones to the next endpoint on the ring.
         */
        public Builder<K, V, Req, Res> consistentHash(Function<? super Req, ?> key, double loadFactor) {
            Checks.inRange(loadFactor, 1.0, 100.0, "loadFactor");
            return strategy("consistentHash", new Strategy.ConsistentHash<>(key, loadFactor));
        }

        private Builder<K, V, Req, Res> strategy(String name, Strategy<Req, Res> chosen) {
            Checks.notSetTwice(strategy == null ? null : strategyName, "strategy");
            strategy = chosen;
            strategyName = name;
            return this;
        }

        /** The weight of each endpoint, from its description: at least 1, at most 10000; default 1. */
        public Builder<K, V, Req, Res> weight(ToIntFunction<? super V> weigher) {
            Checks.notSetTwice(weigherSet ? "a function" : null, "weight");
            this.weigher = Checks.notNull(weigher, "weight");
            weigherSet = true;
            return this;
        }

        /** The clock for waiting, loads and slow start; default the system clock. */
        public Builder<K, V, Req, Res> clock(Clock clock) {
            Checks.notSetTwice(clockSet ? this.clock : null, "clock");
            this.clock = Checks.notNull(clock, "clock");
            clockSet = true;
            return this;
        }

        /**
         * The random source for random choices; default {@link ThreadLocalRandom}. Must be
         * thread-safe if the balancer is called from several threads.
         */
        public Builder<K, V, Req, Res> random(RandomGenerator random) {
            Checks.notSetTwice(randomSet ? this.random : null, "random");
            this.random = Checks.notNull(random, "random");
            randomSet = true;
            return this;
        }

        /** How long {@code call} waits for an endpoint to admit before failing; default 5 s. */
        public Builder<K, V, Req, Res> maxWait(Duration maxWait) {
            Checks.notSetTwice(maxWaitSet ? this.maxWait : null, "maxWait");
            if (failFast) {
                throw new IllegalStateException("maxWait conflicts with failFast, already set");
            }
            this.maxWait = Checks.positive(maxWait, "maxWait");
            maxWaitSet = true;
            return this;
        }

        /** Makes {@code call} fail at once with {@link NoEndpointsException} when no endpoint can admit. */
        public Builder<K, V, Req, Res> failFast() {
            if (failFast || maxWaitSet) {
                throw new IllegalStateException(
                        failFast ? "failFast was already set" : "failFast conflicts with maxWait, already set");
            }
            failFast = true;
            return this;
        }

        /**
         * Ramps a new endpoint's share up linearly over {@code window}, from a tenth to all of it;
         * off by default. Round robin ignores it.
         */
        public Builder<K, V, Req, Res> slowStart(Duration window) {
            Checks.notSetTwice(slowStart, "slowStart");
            this.slowStart = Checks.positive(window, "slowStart");
            return this;
        }

        /**
         * Subscribes to discovery and returns the balancer, with the endpoints the source already
         * has in rotation.
         *
         * @throws IllegalArgumentException if an endpoint the source already has is invalid (a
         *     weight below 1); later invalid changes are logged and skipped
         */
        public Balancer<Req, Res> build() {
            return new Balancer<>(this);
        }
    }
}
