package dev.belfry.channel;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.balance.Balancer;
import dev.belfry.balance.NoEndpointsException;
import dev.belfry.balance.Routed;
import dev.belfry.discover.DiscoverSource;
import dev.belfry.internal.SerialExecutor;
import dev.belfry.load.Load;
import dev.belfry.load.PeakEwma;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * An always-ready, load-balanced, health-checked pool of member connections, served as one {@link
 * Service}: the protocol-neutral engine of Belfry's warm channels (the Rust {@code warm_channels}
 * crate's pool, with its defaults, and more).
 *
 * <pre>
 *  AddressSource --answers--> addresses (round robin, per-address backoff, last 3 errors)
 *                                  |  connect (MemberConnector), want = 3
 *                                  v
 *                   members: connecting -> probed -> healthy / unhealthy (rise, fall)
 *                                  |  the usable ones
 *                                  v
 *          call --> core Balancer (p2c + PeakEWMA) --> one member --> response
 * </pre>
 *
 * <p>From the moment it is built, and for its whole life, the pool keeps {@code want} members, each
 * connected to one resolved address, choosing addresses round robin. A member serves requests once
 * its first health probe passes. The pool is {@linkplain PoolState#HEALTHY healthy} with at least
 * {@code healthyMin} healthy members. An unhealthy member is dropped and replaced at once, except in
 * <b>degraded mode</b>: once the healthy count has reached {@code criticalMin} and then falls below
 * it, every connected member serves, healthy or not, and none is dropped for failing probes. When
 * the healthy count reaches {@code criticalMin} again, the members that were once healthy and are
 * not now are dropped. New connections to one address are paced by that address's exponential
 * backoff, reset by the first healthy report of a member on it.
 *
 * <p>Requests go through the core {@link Balancer} (power of two choices over Peak-EWMA, where a
 * failed request, or an answer the protocol says blames the server, counts as at least the {@link
 * Builder#failurePenalty failure penalty} slow) over the serving members. A call made when no member can take it waits at most the fail-fast wait and then
 * fails with {@link NoMemberReadyException}, naming the pool and its last error. A member that
 * leaves rotation keeps its requests in flight and is closed when they finish.
 *
 * <p>Thread-safe: all state changes run on one serial executor; the request path takes no lock.
 * {@link #close} closes every member and timer and fails waiting calls with {@link
 * ServiceClosedException}.
 *
 * @param <A> the address type
 * @param <Req> the request type
 * @param <Res> the response type
 */
public final class WarmPool<A, Req, Res> implements Service<Req, Res> {
    static final String NOT_RESOLVED = "name not resolved yet";
    static final String STILL_CONNECTING = "still connecting";
    static final int ERRORS_PER_ADDRESS = 3;
    static final Duration DEFAULT_FAILURE_PENALTY = Duration.ofMillis(100);

    private final String name;
    private final Settings settings;
    private final Clock clock;
    private final RandomGenerator random;
    private final PoolLog log;
    private final MemberConnector<A, Req, Res> connector;
    private final SerialExecutor serial;
    private final DiscoverSource<Long, Service<Req, Res>> rotation = DiscoverSource.create();
    private final Balancer<Req, Res> balancer;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CompletableFuture<Void> firstHealthy = new CompletableFuture<>();
    private final AutoCloseable subscription;
    private final @Nullable AutoCloseable registration;
    // Totals for metrics, written on the serial executor and read by scrapes.
    private final AtomicLong connectErrors = new AtomicLong();
    private final AtomicLong healthFailures = new AtomicLong();
    private final AtomicLong resolutionFailures = new AtomicLong();
    // Each live member's address, written on the serial executor and read by route().
    private final Map<Long, Object> memberAddresses = new ConcurrentHashMap<>();

    // Confined to the serial executor.
    private final List<Addr<A>> addresses = new ArrayList<>();
    private final Map<Long, Slot<A, Req, Res>> slots = new LinkedHashMap<>();
    // Dropped members still finishing requests in flight, until their last request ends.
    private final Map<Long, Slot<A, Req, Res>> draining = new LinkedHashMap<>();
    private final List<Consumer<? super PoolState>> listeners = new ArrayList<>();
    private int cursor;
    private long serialNumber;
    private int have;
    private int healthy;
    private int serving;
    private int target;
    private boolean critical;
    private long opened;
    // The last answer in force is stale: a later resolution failed or came back empty.
    private boolean stale;
    // The figures above as of the end of the last serial task, for counts() on any thread.
    private volatile PoolCounts counts;
    private @Nullable RecordedError resolutionError;
    // Growth: when the pool was last saturated (every serving member busy), and the shrink timer.
    private long saturatedAt;
    private boolean saturatedOnce;
    private Clock.@Nullable Scheduled shrinkTimer;
    private boolean firstConnect = true;
    private boolean resolvedOnce;
    // Written on the serial executor, read by callers that fail fast.
    private volatile @Nullable RecordedError lastError;
    private PoolState state = PoolState.UNHEALTHY;
    private Clock.@Nullable Scheduled addTimer;
    private long addTimerAt;
    // The unhealthy-warning schedule: when unhappiness began, whether it was logged, its timer.
    private long unhappySince;
    private boolean warned;
    private boolean happy;
    private Clock.@Nullable Scheduled warnTimer;

    private WarmPool(Builder<A, Req, Res> builder) {
        this.name = builder.name;
        this.settings = builder.settings();
        this.clock = builder.clock;
        this.random = builder.random;
        this.log = builder.log;
        this.connector = builder.connector;
        this.target = settings.want();
        this.counts = new PoolCounts(name, state, target, 0, 0, 0, 0, false, 0, 0, 0);
        this.serial = new SerialExecutor(failure -> log.warn("pool task failed: " + failure));
        this.lastError = new RecordedError(NOT_RESOLVED, clock.nanoTime(), clock.nanoTime(), 1);
        this.balancer = Balancer.builder(rotation)
                .p2c(builder.load(clock))
                .clock(clock)
                .random(random)
                .maxWait(settings.failFastWait())
                .build();
        onSerial(() -> {
            happy = settings.healthyMin() == 0;
            if (!happy) {
                becomeUnhappy();
            }
        });
        ChannelRegistry registry = builder.registry;
        // Registered before resolution starts, so a duplicate name fails the build with nothing to undo.
        this.registration = registry == null ? null : registry.register(this);
        this.subscription = builder.source.subscribe(resolution -> onSerial(() -> resolved(resolution)));
    }

    /**
     * A builder of a pool named {@code name} (for logs, metrics and errors) over the addresses of
     * {@code source}, connecting members with {@code connector}.
     */
    public static <A, Req, Res> Builder<A, Req, Res> builder(
            String name, AddressSource<A> source, MemberConnector<A, Req, Res> connector) {
        return new Builder<>(name, source, connector);
    }

    /** The pool's name. */
    public String name() {
        return name;
    }

    /** The settings the pool runs with, defaults filled in. */
    public Settings settings() {
        return settings;
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        if (closed.get()) {
            return Futures.failed(new ServiceClosedException("pool '" + name + "' is closed"));
        }
        if (settings.growth() && counts.serving() > 0 && balancer.readiness() == Readiness.BUSY) {
            // Every serving member is busy: the call will queue. A reason to grow.
            onSerial(this::saturated);
        }
        CompletableFuture<Res> inner = balancer.call(request);
        CompletableFuture<Res> result = new CompletableFuture<>();
        inner.whenComplete((response, failure) -> {
            if (failure != null && Futures.unwrap(failure) instanceof NoEndpointsException none) {
                result.completeExceptionally(noMemberReady(none));
            } else {
                Futures.completeFrom(result, response, failure);
            }
        });
        Futures.propagateCancellation(result, inner);
        return result;
    }

    /**
     * Admits {@code request} on a serving member that neither is in {@code avoid} nor connects to
     * the address of one in {@code avoid}, if one can take it now, else on an avoided one, waiting
     * as {@link #call} does; answers with the member's key and its response (see {@link
     * Balancer#route}). For retrying elsewhere a request that a member certainly did not process:
     * pass the keys already tried. A failure is usually the server's, not the connection's (a
     * restart, a crash), so the other members connected to the same address are avoided too.
     *
     * <p>Fails with {@link NoMemberReadyException} as {@link #call} does. Cancelling the returned
     * future while it waits withdraws the request; once it has completed, cancel the response.
     */
    public CompletableFuture<Routed<Res>> route(Req request, Set<?> avoid) {
        if (closed.get()) {
            return Futures.failed(new ServiceClosedException("pool '" + name + "' is closed"));
        }
        CompletableFuture<Routed<Res>> inner = balancer.route(request, withTheirAddresses(avoid));
        CompletableFuture<Routed<Res>> result = new CompletableFuture<>();
        inner.whenComplete((routed, failure) -> {
            if (failure != null && Futures.unwrap(failure) instanceof NoEndpointsException none) {
                result.completeExceptionally(noMemberReady(none));
            } else {
                Futures.completeFrom(result, routed, failure);
            }
        });
        Futures.propagateCancellation(result, inner);
        return result;
    }

    /** {@code avoid} and every live member that shares an address with one of them. */
    private Set<?> withTheirAddresses(Set<?> avoid) {
        if (avoid.isEmpty()) {
            return avoid;
        }
        Set<Object> addressesAvoided = new HashSet<>();
        for (Object key : avoid) {
            Object address = memberAddresses.get(key);
            if (address != null) {
                addressesAvoided.add(address);
            }
        }
        Set<Object> keys = new HashSet<>(avoid);
        memberAddresses.forEach((key, address) -> {
            if (addressesAvoided.contains(address)) {
                keys.add(key);
            }
        });
        return keys;
    }

    private NoMemberReadyException noMemberReady(NoEndpointsException none) {
        RecordedError error = lastError;
        return new NoMemberReadyException(name, settings.failFastWait(), error == null ? null : error.toString(), none);
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        return closed.get() ? null : balancer.tryCall(request);
    }

    /** Ready when a serving member would take a request now; closed after {@link #close}. */
    @Override
    public Readiness readiness() {
        return closed.get() ? Readiness.CLOSED : balancer.readiness();
    }

    /**
     * Completes when the pool first becomes healthy ({@code healthyMin} healthy members), or when it
     * is closed (normally: {@link #readiness} then says closed); after that, when a member may have
     * become ready.
     *
     * <p>Before the pool is first healthy this can complete later than the first ready member: it
     * waits for the pool as a whole, which is what start-up code wants to wait for.
     */
    @Override
    public CompletionStage<Void> whenReady() {
        if (!firstHealthy.isDone()) {
            return firstHealthy.copy();
        }
        return closed.get() ? CompletableFuture.completedFuture(null) : balancer.whenReady();
    }

    /**
     * Calls {@code listener} with the pool's current state at once, then with each change, on the
     * pool's serial executor (keep it short). Returns a handle that stops the calls.
     */
    public AutoCloseable onStateChange(Consumer<? super PoolState> listener) {
        Checks.notNull(listener, "listener");
        onSerial(() -> {
            listeners.add(listener);
            notify(listener, state);
        });
        return () -> onSerial(() -> listeners.remove(listener));
    }

    /**
     * The pool's counts now, read without waiting (for metrics scrapes): each figure is current, but
     * figures read together may straddle a change.
     */
    public PoolCounts counts() {
        return counts;
    }

    /** A snapshot of the pool: its state, addresses, members and errors. */
    public CompletableFuture<PoolStatus> status() {
        CompletableFuture<PoolStatus> result = new CompletableFuture<>();
        onSerial(() -> result.complete(snapshot()));
        return result;
    }

    /** Stops resolution, closes every member and timer, and fails waiting calls. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            subscription.close();
        } catch (Exception e) {
            log.warn(name + ": closing the address source failed: " + e);
        }
        if (registration != null) {
            try {
                registration.close();
            } catch (Exception e) {
                log.warn(name + ": leaving the channel registry failed: " + e);
            }
        }
        onSerial(() -> {
            cancel(addTimer);
            cancel(warnTimer);
            cancel(shrinkTimer);
            for (Slot<A, Req, Res> slot : slots.values()) {
                slot.dropped = true;
                slot.cancelTimers();
                if (slot.inRotation) {
                    // The balancer closes the view, and the view's release closes the member.
                    slot.inRotation = false;
                } else if (slot.member != null) {
                    closeMember(slot);
                } else if (slot.connecting != null) {
                    slot.connecting.toCompletableFuture().cancel(false);
                }
            }
            // The balancer closes the views still in rotation, and each view its member.
            balancer.close();
            serving = 0;
            // Closed is a change away from busy: waiters wake and find the pool closed.
            firstHealthy.complete(null);
        });
    }

    @Override
    public String toString() {
        return "WarmPool[" + name + "]";
    }

    /** Runs {@code task} on the serial executor, then publishes the counts it may have changed. */
    private void onSerial(Runnable task) {
        serial.execute(() -> {
            try {
                task.run();
            } finally {
                counts = new PoolCounts(
                        name,
                        state,
                        target,
                        have,
                        healthy,
                        serving,
                        opened,
                        stale,
                        connectErrors.get(),
                        healthFailures.get(),
                        resolutionFailures.get());
            }
        });
    }

    // ---- resolution ----

    private void resolved(Resolution<A> resolution) {
        if (closed.get()) {
            return;
        }
        Throwable failure = resolution.failure();
        if (failure != null) {
            resolutionFailures.incrementAndGet();
            String message = "resolution failed: " + describe(failure);
            resolutionError = repeatOrNew(resolutionError, message);
            // With nothing resolved yet, the failure is the reason the pool is down; otherwise the
            // last good answer stays in force, stale, and the failure is only worth a warning (once
            // per run of failures, the repeats are counted in the status).
            if (!resolvedOnce) {
                setError(message);
            } else {
                if (!stale) {
                    log.warn(name + ": " + message + "; keeping the last answer");
                }
                stale = true;
            }
            return;
        }
        List<A> answer = resolution.addresses();
        if (answer.isEmpty()) {
            // An empty answer never clobbers the last good one; it makes it stale.
            resolutionError = repeatOrNew(resolutionError, "resolution answered no addresses");
            if (resolvedOnce) {
                if (!stale) {
                    log.warn(name + ": resolution answered no addresses; keeping the last answer");
                }
                stale = true;
            } else {
                setError("resolution answered no addresses");
            }
            return;
        }
        resolvedOnce = true;
        stale = false;
        newAddresses(answer);
        if (settings.drainRemovedAddresses()) {
            for (Slot<A, Req, Res> slot : List.copyOf(slots.values())) {
                if (!slot.addr.resolved) {
                    drop(slot);
                }
            }
        }
        maybeAdd();
    }

    private void newAddresses(List<A> answer) {
        for (Addr<A> addr : addresses) {
            addr.resolved = false;
        }
        Map<A, Addr<A>> known = new HashMap<>();
        for (Addr<A> addr : addresses) {
            known.put(addr.address, addr);
        }
        List<A> fresh = new ArrayList<>();
        Set<A> seen = new HashSet<>();
        for (A address : answer) {
            if (!seen.add(address)) {
                continue;
            }
            Addr<A> existing = known.get(address);
            if (existing != null) {
                existing.resolved = true;
            } else {
                fresh.add(address);
            }
        }
        // New addresses take the places of gone ones without members, so the round-robin order of
        // the others holds; the rest go to the end (as the crate does).
        int spot = 0;
        for (A address : fresh) {
            Addr<A> addr = new Addr<>(address, settings);
            while (spot < addresses.size() && !addresses.get(spot).unused()) {
                spot++;
            }
            if (spot < addresses.size()) {
                addresses.set(spot++, addr);
            } else {
                addresses.add(addr);
                spot = addresses.size();
            }
        }
    }

    // ---- opening members ----

    private void maybeAdd() {
        while (!closed.get() && have < target) {
            Addr<A> chosen = null;
            long soonest = Long.MAX_VALUE;
            long now = clock.nanoTime();
            for (int n = addresses.size(); n > 0; n--) {
                if (cursor >= addresses.size()) {
                    cursor = 0;
                }
                Addr<A> addr = addresses.get(cursor);
                cursor++;
                if (!addr.resolved) {
                    continue;
                }
                if (!addr.backingOff || addr.nextAttemptAt - now <= 0) {
                    chosen = addr;
                    break;
                }
                soonest = Math.min(soonest, addr.nextAttemptAt);
            }
            if (chosen == null) {
                if (soonest != Long.MAX_VALUE) {
                    wakeAt(soonest, now);
                }
                return;
            }
            open(chosen, now);
        }
    }

    private void wakeAt(long at, long now) {
        if (addTimer != null && addTimerAt - at <= 0) {
            return;
        }
        cancel(addTimer);
        addTimerAt = at;
        addTimer = clock.schedule(
                Duration.ofNanos(at - now),
                () -> onSerial(() -> {
                    addTimer = null;
                    maybeAdd();
                }));
    }

    private void open(Addr<A> addr, long now) {
        if (firstConnect) {
            firstConnect = false;
            setError(STILL_CONNECTING);
        }
        addr.attempted(now, random);
        have++;
        opened++;
        Slot<A, Req, Res> slot = new Slot<>(serialNumber++, addr);
        slots.put(slot.id, slot);
        memberAddresses.put(slot.id, addr.address);
        CompletionStage<? extends PoolMember<Req, Res>> connecting;
        try {
            connecting = Checks.notNull(connector.connect(addr.address), "the connector's result");
        } catch (RuntimeException e) {
            connecting = CompletableFuture.failedFuture(e);
        }
        slot.connecting = connecting;
        connecting.whenComplete((member, failure) -> onSerial(() -> connected(slot, member, failure)));
    }

    private void connected(Slot<A, Req, Res> slot, @Nullable PoolMember<Req, Res> member, @Nullable Throwable failure) {
        slot.connecting = null;
        if (failure != null || member == null) {
            if (!slot.dropped) {
                connectErrors.incrementAndGet();
                String message = "connection to " + slot.addr.address + " failed: "
                        + (failure == null ? "the connector yielded no member" : describe(failure));
                recordError(slot.addr, message);
                drop(slot);
            }
            return;
        }
        slot.member = member;
        if (slot.dropped) {
            // Dropped (or the pool closed) while connecting.
            closeMember(slot);
            return;
        }
        slot.connected = true;
        member.closed()
                .whenComplete((ignored, why) -> onSerial(() -> {
                    if (!slot.dropped) {
                        recordError(
                                slot.addr,
                                "connection to " + slot.addr.address + " closed"
                                        + (why == null ? "" : ": " + describe(why)));
                        drop(slot);
                    }
                }));
        Duration maxAge = settings.maxConnectionAge();
        if (maxAge != null) {
            double jitter = settings.maxConnectionAgeJitter();
            double factor = 1 - jitter + 2 * jitter * random.nextDouble();
            scheduleAgeOut(slot, Duration.ofNanos((long) (maxAge.toNanos() * factor)));
        }
        updateRotation();
        probe(slot);
    }

    private void scheduleAgeOut(Slot<A, Req, Res> slot, Duration delay) {
        slot.ageTimer = clock.schedule(
                delay,
                () -> onSerial(() -> {
                    slot.ageTimer = null;
                    if (slot.dropped) {
                        return;
                    }
                    // Ageing out must not make the pool unhealthy (or degraded): a healthy member the pool
                    // cannot spare waits a health interval, by when its replacement may have come up.
                    if (slot.healthy && healthy <= settings.healthyMin()) {
                        scheduleAgeOut(slot, settings.healthInterval());
                        return;
                    }
                    drop(slot);
                }));
    }

    // ---- health probes ----

    private void probe(Slot<A, Req, Res> slot) {
        PoolMember<Req, Res> member = slot.member;
        if (slot.dropped || member == null) {
            return;
        }
        long round = ++slot.rounds;
        slot.round = round;
        CompletionStage<?> check;
        try {
            check = Checks.notNull(member.checkHealth(), "the health check's result");
        } catch (RuntimeException e) {
            check = CompletableFuture.failedFuture(e);
        }
        CompletionStage<?> running = check;
        slot.timeoutTimer = clock.schedule(
                settings.healthTimeout(),
                () -> onSerial(() -> {
                    if (slot.round == round) {
                        running.toCompletableFuture().cancel(false);
                        probed(
                                slot,
                                "health check timed out after "
                                        + settings.healthTimeout().toMillis() + " ms");
                    }
                }));
        check.whenComplete((ok, failure) -> onSerial(() -> {
            if (slot.round == round) {
                probed(slot, failure == null ? null : "health check failed: " + describe(failure));
            }
        }));
    }

    private void probed(Slot<A, Req, Res> slot, @Nullable String failure) {
        slot.round = 0;
        cancel(slot.timeoutTimer);
        slot.timeoutTimer = null;
        if (slot.dropped) {
            return;
        }
        slot.checked = true;
        if (failure == null) {
            slot.passes++;
            slot.fails = 0;
            if (!slot.healthy && slot.passes >= settings.rise()) {
                becameHealthy(slot);
            }
        } else {
            healthFailures.incrementAndGet();
            slot.fails++;
            slot.passes = 0;
            recordError(slot.addr, failure);
            // A healthy member stays so until `fall` failures in a row; one never healthy is
            // judged on its first.
            if (!slot.healthy || slot.fails >= settings.fall()) {
                becameUnhealthy(slot);
            }
        }
        if (!slot.dropped) {
            updateRotation();
            slot.probeTimer = clock.schedule(
                    settings.healthInterval(),
                    () -> onSerial(() -> {
                        slot.probeTimer = null;
                        probe(slot);
                    }));
        }
    }

    private void becameHealthy(Slot<A, Req, Res> slot) {
        if (!slot.everHealthy) {
            slot.everHealthy = true;
            slot.addr.succeeded();
            // A success after the address's backoff ran lets the next connection start at once.
            maybeAdd();
        }
        slot.healthy = true;
        if (incHealthy()) {
            dropUnhealthies();
        }
    }

    private void becameUnhealthy(Slot<A, Req, Res> slot) {
        if (slot.healthy) {
            slot.healthy = false;
            decHealthy();
        }
        if (!critical) {
            drop(slot);
        }
    }

    // ---- counts, degraded mode, warnings (the crate's regulator) ----

    /** Counts one more healthy member; returns whether degraded mode just ended. */
    private boolean incHealthy() {
        healthy++;
        boolean leftDegraded = false;
        if (healthy == settings.healthyMin()) {
            firstHealthy.complete(null);
            if (warned) {
                log.info(name + ": channel is healthy now (" + healthy + "/" + settings.want() + " healthy)");
            }
            becomeHappy();
            lastError = null;
        }
        if (healthy == settings.criticalMin()) {
            leftDegraded = critical;
            critical = false;
        }
        publishState();
        return leftDegraded;
    }

    private void decHealthy() {
        if (healthy == settings.healthyMin()) {
            becomeUnhappy();
        }
        if (healthy == settings.criticalMin()) {
            critical = true;
        }
        healthy--;
        publishState();
    }

    private void dropUnhealthies() {
        for (Slot<A, Req, Res> slot : List.copyOf(slots.values())) {
            if (slot.everHealthy && !slot.healthy && !slot.dropped) {
                drop(slot);
            }
        }
        updateRotation();
    }

    private void publishState() {
        PoolState now = critical
                ? PoolState.DEGRADED
                : healthy >= settings.healthyMin() ? PoolState.HEALTHY : PoolState.UNHEALTHY;
        if (now == state) {
            return;
        }
        state = now;
        for (Consumer<? super PoolState> listener : List.copyOf(listeners)) {
            notify(listener, now);
        }
    }

    private void notify(Consumer<? super PoolState> listener, PoolState value) {
        try {
            listener.accept(value);
        } catch (RuntimeException e) {
            log.warn(name + ": a state listener failed: " + e);
        }
    }

    private void becomeUnhappy() {
        happy = false;
        warned = false;
        unhappySince = clock.nanoTime();
        cancel(warnTimer);
        warnTimer = null;
        Duration first = settings.warnAfter();
        if (first != null) {
            scheduleWarning(first);
        }
    }

    private void becomeHappy() {
        happy = true;
        warned = false;
        cancel(warnTimer);
        warnTimer = null;
    }

    private void scheduleWarning(Duration delay) {
        warnTimer = clock.schedule(delay, () -> onSerial(this::warnUnhealthy));
    }

    private void warnUnhealthy() {
        warnTimer = null;
        if (happy || closed.get()) {
            return;
        }
        long unhealthyFor = clock.nanoTime() - unhappySince;
        RecordedError error = lastError;
        log.warn(name + ": channel" + (warned ? " still" : "") + " not healthy after " + human(unhealthyFor) + " ("
                + healthy + "/" + settings.want() + " healthy); "
                + (error == null ? "no error recorded since it was last healthy" : error.toString()));
        warned = true;
        Duration repeat = settings.warnEvery();
        if (repeat != null) {
            scheduleWarning(repeat);
        }
    }

    // ---- dropping members and rotation ----

    private void drop(Slot<A, Req, Res> slot) {
        if (slot.dropped) {
            return;
        }
        slot.dropped = true;
        slot.cancelTimers();
        slot.round = 0;
        slots.remove(slot.id);
        memberAddresses.remove(slot.id);
        have--;
        slot.addr.members--;
        if (slot.healthy) {
            slot.healthy = false;
            decHealthy();
        }
        if (slot.inRotation) {
            // The balancer keeps the member's requests in flight and closes its view after them.
            slot.inRotation = false;
            draining.put(slot.id, slot);
            rotation.remove(slot.id);
        } else if (slot.member != null) {
            closeMember(slot);
        } else if (slot.connecting != null) {
            slot.connecting.toCompletableFuture().cancel(false);
        }
        // A dropped member is replaced at once (within its address's backoff).
        maybeAdd();
        updateRotation();
    }

    private void updateRotation() {
        int inRotation = 0;
        for (Slot<A, Req, Res> slot : slots.values()) {
            boolean serve = !slot.dropped
                    && slot.connected
                    && (slot.healthy || critical)
                    // A member serves only after its first health result, except in degraded mode.
                    && (slot.checked || critical);
            if (serve && !slot.inRotation) {
                slot.inRotation = true;
                slot.views++;
                rotation.put(slot.id, new MemberView(slot));
            } else if (!serve && slot.inRotation) {
                slot.inRotation = false;
                rotation.remove(slot.id);
            }
            if (slot.inRotation) {
                inRotation++;
            }
        }
        serving = inRotation;
    }

    private void viewClosed(Slot<A, Req, Res> slot) {
        slot.views--;
        if (slot.dropped && slot.views == 0 && !slot.inRotation) {
            draining.remove(slot.id);
            closeMember(slot);
        }
    }

    private void closeMember(Slot<A, Req, Res> slot) {
        PoolMember<Req, Res> member = slot.member;
        if (member == null || slot.memberClosed) {
            return;
        }
        slot.memberClosed = true;
        try {
            member.close();
        } catch (RuntimeException e) {
            log.warn(name + ": closing a member on " + slot.addr.address + " failed: " + e);
        }
    }

    // ---- growth (off unless maxMembers > want) ----

    /** A call found every serving member busy: grow by one member if the last growth has come up. */
    private void saturated() {
        if (closed.get()) {
            return;
        }
        long now = clock.nanoTime();
        saturatedAt = now;
        saturatedOnce = true;
        if (target >= settings.maxMembers() || have < target || anyConnecting()) {
            // At the cap, or a member is still on its way: it may be the capacity that was missing.
            return;
        }
        target++;
        log.info(name + ": every serving member is busy; growing to " + target + " members (at most "
                + settings.maxMembers() + ")");
        maybeAdd();
        if (shrinkTimer == null) {
            scheduleShrink(settings.shrinkAfter());
        }
    }

    private boolean anyConnecting() {
        for (Slot<A, Req, Res> slot : slots.values()) {
            if (!slot.connected) {
                return true;
            }
        }
        return false;
    }

    private void scheduleShrink(Duration delay) {
        shrinkTimer = clock.schedule(delay, () -> onSerial(this::maybeShrink));
    }

    /**
     * After {@code shrinkAfter} without saturation, gives back one grown member (an unhealthy or
     * connecting one first, else the newest healthy one the pool can spare), then looks again.
     */
    private void maybeShrink() {
        shrinkTimer = null;
        if (closed.get() || target <= settings.want()) {
            return;
        }
        long now = clock.nanoTime();
        long quietFor = now - saturatedAt;
        long needed = settings.shrinkAfter().toNanos();
        if (saturatedOnce && quietFor < needed) {
            scheduleShrink(Duration.ofNanos(needed - quietFor));
            return;
        }
        if (have > target - 1) {
            Slot<A, Req, Res> victim = surplus();
            if (victim == null) {
                // Every member is healthy and needed for healthyMin: keep them, look again later.
                scheduleShrink(settings.shrinkAfter());
                return;
            }
            target--;
            drop(victim);
        } else {
            target--;
        }
        log.info(name + ": no call found every member busy for " + human(quietFor) + "; shrinking to " + target
                + " members");
        if (target > settings.want()) {
            scheduleShrink(settings.shrinkAfter());
        }
    }

    /** The member to give back: one not healthy (connecting included), else the newest healthy one the pool can spare. */
    private @Nullable Slot<A, Req, Res> surplus() {
        Slot<A, Req, Res> newest = null;
        for (Slot<A, Req, Res> slot : slots.values()) {
            if (!slot.healthy) {
                return slot;
            }
            newest = slot;
        }
        return healthy > settings.healthyMin() ? newest : null;
    }

    // ---- errors ----

    private void recordError(Addr<A> addr, String message) {
        long now = clock.nanoTime();
        RecordedError last = addr.errors.peekLast();
        if (last != null && last.message().equals(message)) {
            addr.errors.pollLast();
            addr.errors.addLast(last.repeated(now));
        } else {
            addr.errors.addLast(new RecordedError(message, now, now, 1));
            while (addr.errors.size() > ERRORS_PER_ADDRESS) {
                addr.errors.pollFirst();
            }
        }
        setError(message);
    }

    private void setError(String message) {
        lastError = repeatOrNew(lastError, message);
    }

    private RecordedError repeatOrNew(@Nullable RecordedError last, String message) {
        long now = clock.nanoTime();
        return last != null && last.message().equals(message)
                ? last.repeated(now)
                : new RecordedError(message, now, now, 1);
    }

    private PoolStatus snapshot() {
        List<PoolStatus.AddressStatus> addressList = new ArrayList<>();
        for (Addr<A> addr : addresses) {
            if (addr.unused()) {
                continue;
            }
            addressList.add(new PoolStatus.AddressStatus(
                    String.valueOf(addr.address),
                    addr.resolved,
                    addr.members,
                    addr.backingOff ? addr.nextAttemptAt : 0,
                    List.copyOf(addr.errors),
                    addr.resolved && stale));
        }
        Map<Object, Integer> inflight = new HashMap<>();
        for (var endpoint : balancer.endpoints()) {
            inflight.put(endpoint.key(), endpoint.inflight());
        }
        List<PoolStatus.MemberStatus> members = new ArrayList<>();
        for (Slot<A, Req, Res> slot : slots.values()) {
            String memberState = !slot.connected
                    ? "connecting"
                    : slot.healthy ? "healthy" : slot.everHealthy ? "unhealthy" : "never healthy";
            members.add(new PoolStatus.MemberStatus(
                    slot.id,
                    String.valueOf(slot.addr.address),
                    memberState,
                    slot.inRotation,
                    slot.inRotation ? inflight.getOrDefault(slot.id, 0) : 0));
        }
        for (Slot<A, Req, Res> slot : draining.values()) {
            members.add(new PoolStatus.MemberStatus(slot.id, String.valueOf(slot.addr.address), "draining", false, 0));
        }
        RecordedError error = lastError;
        return new PoolStatus(
                name,
                state,
                settings.want(),
                have,
                healthy,
                opened,
                error == null ? null : error.toString(),
                addressList,
                members,
                clock.nanoTime(),
                target,
                serving,
                stale,
                resolutionError);
    }

    private static String describe(Throwable failure) {
        Throwable cause = Futures.unwrap(failure);
        String message = cause.getMessage();
        return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
    }

    /** Like humantime: "10s", "1m 40s", "500ms". */
    static String human(long nanos) {
        long millis = nanos / 1_000_000;
        if (millis < 1000) {
            return millis + "ms";
        }
        long seconds = millis / 1000;
        long rest = millis % 1000;
        StringBuilder text = new StringBuilder();
        long hours = seconds / 3600;
        long minutes = seconds / 60 % 60;
        long secs = seconds % 60;
        if (hours > 0) {
            text.append(hours).append("h ");
        }
        if (minutes > 0) {
            text.append(minutes).append("m ");
        }
        if (secs > 0) {
            text.append(secs).append("s ");
        }
        if (rest > 0) {
            text.append(rest).append("ms ");
        }
        return text.toString().trim();
    }

    private static void cancel(Clock.@Nullable Scheduled timer) {
        if (timer != null) {
            timer.cancel();
        }
    }

    /**
     * What the balancer holds for a member in rotation: the member's service, with {@code close}
     * meaning "the balancer is done with it" (its requests have finished), not "close the member".
     */
    private final class MemberView implements Service<Req, Res> {
        private final Slot<A, Req, Res> slot;
        private final PoolMember<Req, Res> member;
        private final AtomicBoolean released = new AtomicBoolean();

        MemberView(Slot<A, Req, Res> slot) {
            this.slot = slot;
            this.member = Checks.notNull(slot.member, "member");
        }

        @Override
        public CompletableFuture<Res> call(Req request) {
            return member.call(request);
        }

        @Override
        public @Nullable CompletableFuture<Res> tryCall(Req request) {
            return member.tryCall(request);
        }

        @Override
        public Readiness readiness() {
            return member.readiness();
        }

        @Override
        public CompletionStage<Void> whenReady() {
            return member.whenReady();
        }

        @Override
        public void close() {
            if (released.compareAndSet(false, true)) {
                onSerial(() -> viewClosed(slot));
            }
        }
    }

    /** One resolved address: its backoff, its members and its recent errors. */
    private static final class Addr<A> {
        final A address;
        final Settings settings;
        final ArrayDeque<RecordedError> errors = new ArrayDeque<>();
        boolean resolved = true;
        int members;
        boolean backingOff;
        long nextAttemptAt;
        long interval;

        Addr(A address, Settings settings) {
            this.address = address;
            this.settings = settings;
            this.interval = settings.initialBackoff().toNanos();
        }

        boolean unused() {
            return !resolved && members == 0;
        }

        /** A connection starts now: the next may start only after this address's backoff. */
        void attempted(long now, RandomGenerator random) {
            if (!backingOff) {
                interval = settings.initialBackoff().toNanos();
            }
            double jitter = settings.backoffJitter();
            long delay = (long) (interval * (1 - jitter + 2 * jitter * random.nextDouble()));
            backingOff = true;
            nextAttemptAt = now + delay;
            interval = Math.min(
                    (long) (interval * settings.backoffMultiplier()),
                    settings.maxBackoff().toNanos());
            members++;
        }

        void succeeded() {
            backingOff = false;
        }
    }

    /** One member's place in the pool, from the start of its connection to its drop. */
    private static final class Slot<A, Req, Res> {
        final long id;
        final Addr<A> addr;

        @Nullable
        PoolMember<Req, Res> member;

        @Nullable
        CompletionStage<? extends PoolMember<Req, Res>> connecting;

        boolean connected;
        boolean checked;
        boolean healthy;
        boolean everHealthy;
        boolean dropped;
        boolean inRotation;
        boolean memberClosed;
        int views;
        int passes;
        int fails;
        // The probe in flight (0 for none): a late result of an abandoned probe is ignored.
        long round;
        long rounds;
        Clock.@Nullable Scheduled probeTimer;
        Clock.@Nullable Scheduled timeoutTimer;
        Clock.@Nullable Scheduled ageTimer;

        Slot(long id, Addr<A> addr) {
            this.id = id;
            this.addr = addr;
        }

        void cancelTimers() {
            cancel(probeTimer);
            cancel(timeoutTimer);
            cancel(ageTimer);
            probeTimer = null;
            timeoutTimer = null;
            ageTimer = null;
        }
    }

    /**
     * Settings of a pool, defaults filled in.
     *
     * @param want members the pool keeps (warm_channels: {@code n_subchannels_want}, 3)
     * @param healthyMin healthy members for the pool to be healthy ({@code n_subchannels_healthy_min}, 2)
     * @param criticalMin healthy members below which degraded mode begins ({@code
     *     n_subchannels_healthy_critical_min}, 1)
     * @param warnAfter first "not healthy" warning ({@code log_unhealthy_initial_delay}, 10 s), or
     *     null for none
     * @param warnEvery repeat of the warning ({@code log_unhealthy_repeat_delay}, 90 s), or null for once
     * @param initialBackoff first backoff of an address (500 ms)
     * @param backoffMultiplier growth of the backoff (1.5)
     * @param backoffJitter randomisation of each backoff, as a fraction (0.5)
     * @param maxBackoff cap of the backoff interval (60 s)
     * @param healthInterval time from one probe's result to the next probe (9 s)
     * @param healthTimeout longest a probe may take before it counts as failed (7.5 s)
     * @param rise passes in a row that make a member healthy (1)
     * @param fall failures in a row that make a healthy member unhealthy (1)
     * @param drainRemovedAddresses whether members on addresses gone from resolution are drained and
     *     replaced (true; warm_channels keeps them)
     * @param maxConnectionAge age at which a member is drained and replaced, or null for never (null);
     *     a healthy member the pool cannot spare (at or below {@code healthyMin}) waits one more
     *     health interval at a time
     * @param maxConnectionAgeJitter randomisation of that age, as a fraction (0.1)
     * @param failFastWait longest a call waits for a ready member (3 s)
     * @param maxMembers the most members growth may take the pool to ({@code want}: growth off)
     * @param shrinkAfter how long without saturation before a grown pool gives back one member (60 s)
     */
    public record Settings(
            int want,
            int healthyMin,
            int criticalMin,
            @Nullable Duration warnAfter,
            @Nullable Duration warnEvery,
            Duration initialBackoff,
            double backoffMultiplier,
            double backoffJitter,
            Duration maxBackoff,
            Duration healthInterval,
            Duration healthTimeout,
            int rise,
            int fall,
            boolean drainRemovedAddresses,
            @Nullable Duration maxConnectionAge,
            double maxConnectionAgeJitter,
            Duration failFastWait,
            int maxMembers,
            Duration shrinkAfter) {

        /** Settings without growth ({@code maxMembers} = {@code want}, {@code shrinkAfter} 60 s). */
        @SuppressWarnings("InlineMeSuggester")
        public Settings(
                int want,
                int healthyMin,
                int criticalMin,
                @Nullable Duration warnAfter,
                @Nullable Duration warnEvery,
                Duration initialBackoff,
                double backoffMultiplier,
                double backoffJitter,
                Duration maxBackoff,
                Duration healthInterval,
                Duration healthTimeout,
                int rise,
                int fall,
                boolean drainRemovedAddresses,
                @Nullable Duration maxConnectionAge,
                double maxConnectionAgeJitter,
                Duration failFastWait) {
            this(
                    want,
                    healthyMin,
                    criticalMin,
                    warnAfter,
                    warnEvery,
                    initialBackoff,
                    backoffMultiplier,
                    backoffJitter,
                    maxBackoff,
                    healthInterval,
                    healthTimeout,
                    rise,
                    fall,
                    drainRemovedAddresses,
                    maxConnectionAge,
                    maxConnectionAgeJitter,
                    failFastWait,
                    want,
                    Duration.ofSeconds(60));
        }

        /** Validates: every rule broken is named. */
        public Settings {
            Checks.positive(want, "want");
            Checks.nonNegative(healthyMin, "healthyMin");
            Checks.nonNegative(criticalMin, "criticalMin");
            if (healthyMin > want) {
                throw new IllegalArgumentException(
                        "healthyMin (" + healthyMin + ") must not exceed want (" + want + ")");
            }
            if (criticalMin > healthyMin) {
                throw new IllegalArgumentException(
                        "criticalMin (" + criticalMin + ") must not exceed healthyMin (" + healthyMin + ")");
            }
            if (warnAfter != null) {
                Checks.positive(warnAfter, "warnAfter");
            }
            if (warnEvery != null) {
                Checks.positive(warnEvery, "warnEvery");
            }
            Checks.positive(initialBackoff, "initialBackoff");
            Checks.inRange(backoffMultiplier, 1.0, 100.0, "backoffMultiplier");
            Checks.inRange(backoffJitter, 0.0, 1.0, "backoffJitter");
            Checks.positive(maxBackoff, "maxBackoff");
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException(
                        "maxBackoff (" + maxBackoff + ") must not be below initialBackoff (" + initialBackoff + ")");
            }
            Checks.positive(healthInterval, "healthInterval");
            Checks.positive(healthTimeout, "healthTimeout");
            Checks.positive(rise, "rise");
            Checks.positive(fall, "fall");
            if (maxConnectionAge != null) {
                Checks.positive(maxConnectionAge, "maxConnectionAge");
            }
            Checks.inRange(maxConnectionAgeJitter, 0.0, 0.5, "maxConnectionAgeJitter");
            Checks.positive(failFastWait, "failFastWait");
            if (maxMembers < want) {
                throw new IllegalArgumentException(
                        "maxMembers (" + maxMembers + ") must not be below want (" + want + ")");
            }
            Checks.positive(shrinkAfter, "shrinkAfter");
        }

        /** Whether the pool may grow past {@code want} when its members are saturated. */
        public boolean growth() {
            return maxMembers > want;
        }
    }

    /**
     * Settings of a {@link WarmPool}; each may be set once. Defaults are warm_channels' where the
     * crate has the setting (see {@link Settings}).
     *
     * @param <A> the address type
     * @param <Req> the request type
     * @param <Res> the response type
     */
    public static final class Builder<A, Req, Res> {
        private final String name;
        private final AddressSource<A> source;
        private final MemberConnector<A, Req, Res> connector;
        private final Set<String> set = new HashSet<>();
        private int want = 3;
        private int healthyMin = 2;
        private int criticalMin = 1;
        private @Nullable Duration warnAfter = Duration.ofSeconds(10);
        private @Nullable Duration warnEvery = Duration.ofSeconds(90);
        private Duration initialBackoff = Duration.ofMillis(500);
        private double backoffMultiplier = 1.5;
        private double backoffJitter = 0.5;
        private Duration maxBackoff = Duration.ofSeconds(60);
        private Duration healthInterval = Duration.ofSeconds(9);
        private Duration healthTimeout = Duration.ofMillis(7500);
        private int rise = 1;
        private int fall = 1;
        private boolean drainRemovedAddresses = true;
        private @Nullable Duration maxConnectionAge;
        private double maxConnectionAgeJitter = 0.1;
        private Duration failFastWait = Duration.ofSeconds(3);
        private int maxMembers = -1;
        private Duration shrinkAfter = Duration.ofSeconds(60);
        private @Nullable ChannelRegistry registry;
        private Clock clock = Clock.system();
        private RandomGenerator random = ThreadLocalRandom.current();
        private PoolLog log = PoolLog.system();
        private Duration failurePenalty = DEFAULT_FAILURE_PENALTY;
        private @Nullable Predicate<? super Res> serverFault;

        private Builder(String name, AddressSource<A> source, MemberConnector<A, Req, Res> connector) {
            this.name = Checks.notNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            this.source = Checks.notNull(source, "source");
            this.connector = Checks.notNull(connector, "connector");
        }

        private void once(String setting) {
            if (!set.add(setting)) {
                throw new IllegalStateException(setting + " was already set");
            }
        }

        /** Members the pool keeps, healthy or not (3). */
        public Builder<A, Req, Res> want(int members) {
            once("want");
            this.want = Checks.positive(members, "want");
            return this;
        }

        /** Healthy members at which the pool is healthy (2). */
        public Builder<A, Req, Res> healthyMin(int members) {
            once("healthyMin");
            this.healthyMin = Checks.nonNegative(members, "healthyMin");
            return this;
        }

        /** Healthy members below which, once reached, the pool enters degraded mode (1); 0 disables it. */
        public Builder<A, Req, Res> criticalMin(int members) {
            once("criticalMin");
            this.criticalMin = Checks.nonNegative(members, "criticalMin");
            return this;
        }

        /**
         * When to warn that the pool is not healthy (10 s after it became so) and how often to
         * repeat (every 90 s); null for either disables it.
         */
        public Builder<A, Req, Res> warnings(@Nullable Duration after, @Nullable Duration every) {
            once("warnings");
            this.warnAfter = after;
            this.warnEvery = every;
            return this;
        }

        /**
         * Per-address backoff between new connections: {@code initial} (500 ms) growing by {@code
         * multiplier} (1.5) up to {@code max} (60 s), each randomised by {@code jitter} (0.5, that
         * is ±50 %). Never gives up.
         */
        public Builder<A, Req, Res> backoff(Duration initial, double multiplier, double jitter, Duration max) {
            once("backoff");
            this.initialBackoff = Checks.notNull(initial, "initial");
            this.backoffMultiplier = multiplier;
            this.backoffJitter = jitter;
            this.maxBackoff = Checks.notNull(max, "max");
            return this;
        }

        /** Time from one probe's result to the next (9 s) and a probe's longest run (7.5 s). */
        public Builder<A, Req, Res> healthChecks(Duration interval, Duration timeout) {
            once("healthChecks");
            this.healthInterval = Checks.notNull(interval, "interval");
            this.healthTimeout = Checks.notNull(timeout, "timeout");
            return this;
        }

        /**
         * Health hysteresis: {@code rise} passes in a row make a member healthy, {@code fall}
         * failures in a row make a healthy one unhealthy (1 and 1, as in warm_channels).
         */
        public Builder<A, Req, Res> hysteresis(int rise, int fall) {
            once("hysteresis");
            this.rise = Checks.positive(rise, "rise");
            this.fall = Checks.positive(fall, "fall");
            return this;
        }

        /**
         * Whether members on addresses that left resolution are drained (no new requests, requests
         * in flight finish) and replaced on current addresses (true), or kept as warm_channels does.
         */
        public Builder<A, Req, Res> drainRemovedAddresses(boolean drain) {
            once("drainRemovedAddresses");
            this.drainRemovedAddresses = drain;
            return this;
        }

        /**
         * Drains and replaces each member after {@code age}, randomised by ±{@code jitter} (at most
         * 0.5), so long-lived pools rebalance over new addresses. A healthy member whose drop would
         * take the pool below {@code healthyMin} is kept one more health interval at a time. Off by
         * default.
         */
        public Builder<A, Req, Res> maxConnectionAge(Duration age, double jitter) {
            once("maxConnectionAge");
            this.maxConnectionAge = Checks.notNull(age, "age");
            this.maxConnectionAgeJitter = jitter;
            return this;
        }

        /** The longest a call waits for a ready member before it fails (3 s). */
        public Builder<A, Req, Res> failFastWait(Duration wait) {
            once("failFastWait");
            this.failFastWait = Checks.notNull(wait, "wait");
            return this;
        }

        /**
         * Lets the pool grow past {@code want}, up to {@code maxMembers}, while its members are
         * saturated: when a call finds every serving member busy (each refuses more work, so the call
         * would queue), the pool opens one more member, and one more at the next such call once that
         * one has connected. After {@code shrinkAfter} (60 s) with no saturated call it gives one back,
         * and so on down to {@code want}. Off by default ({@code maxMembers} = {@code want}); warm_channels
         * lists this as future work. Useful only with members that report busy (a concurrency limit
         * per connection, an HTTP/1.1 connection, a gRPC stream limit).
         */
        public Builder<A, Req, Res> growth(int maxMembers, Duration shrinkAfter) {
            once("growth");
            this.maxMembers = Checks.positive(maxMembers, "maxMembers");
            this.shrinkAfter = Checks.notNull(shrinkAfter, "shrinkAfter");
            return this;
        }

        /**
         * The registry the pool joins at {@code build()} and leaves at {@code close()}, so that the
         * {@code /debug/channels} page and the metrics see it (none).
         */
        public Builder<A, Req, Res> registry(ChannelRegistry registry) {
            once("registry");
            this.registry = Checks.notNull(registry, "registry");
            return this;
        }

        /** The clock for every timer (the system clock). */
        public Builder<A, Req, Res> clock(Clock clock) {
            once("clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /** The random source for backoff and age jitter and the balancer's choices. */
        public Builder<A, Req, Res> random(RandomGenerator random) {
            once("random");
            this.random = Checks.notNull(random, "random");
            return this;
        }

        /** Where warnings go ({@link PoolLog#system()}). */
        public Builder<A, Req, Res> log(PoolLog log) {
            once("log");
            this.log = Checks.notNull(log, "log");
            return this;
        }

        /**
         * How slow a failed request counts, at least, in the balancer's Peak-EWMA estimate of its
         * member (100 ms; {@link Duration#ZERO} turns the penalty off): a member that fails fast
         * would otherwise look like the fastest one and draw more requests. The estimate jumps to
         * the penalty and decays back over Peak-EWMA's 10 s window as answers come.
         */
        public Builder<A, Req, Res> failurePenalty(Duration penalty) {
            once("failurePenalty");
            Checks.notNull(penalty, "failurePenalty");
            if (penalty.isNegative()) {
                throw new IllegalArgumentException("failurePenalty must not be negative, got " + penalty);
            }
            this.failurePenalty = penalty;
            return this;
        }

        /**
         * Which answers blame the member rather than the request (none): they count as failures
         * for the {@linkplain #failurePenalty failure penalty}. The gRPC channel passes the
         * statuses of a server in trouble ({@code UNAVAILABLE}, {@code RESOURCE_EXHAUSTED}, {@code
         * INTERNAL}, {@code UNKNOWN}, {@code DATA_LOSS}); the HTTP channel, 5xx responses.
         */
        public Builder<A, Req, Res> serverFault(Predicate<? super Res> test) {
            once("serverFault");
            this.serverFault = Checks.notNull(test, "serverFault");
            return this;
        }

        /** The balancer's measure of members: Peak-EWMA, error-penalised unless the penalty is 0. */
        Load<Req, Res> load(Clock clock) {
            PeakEwma.Builder<Req, Res> ewma = PeakEwma.<Req, Res>builder().clock(clock);
            if (!failurePenalty.isZero()) {
                ewma.failurePenalty(failurePenalty);
                if (serverFault != null) {
                    ewma.pushback(serverFault);
                }
            }
            return ewma.build();
        }

        Settings settings() {
            return new Settings(
                    want,
                    healthyMin,
                    criticalMin,
                    warnAfter,
                    warnEvery,
                    initialBackoff,
                    backoffMultiplier,
                    backoffJitter,
                    maxBackoff,
                    healthInterval,
                    healthTimeout,
                    rise,
                    fall,
                    drainRemovedAddresses,
                    maxConnectionAge,
                    maxConnectionAgeJitter,
                    failFastWait,
                    maxMembers < 0 ? want : maxMembers,
                    shrinkAfter);
        }

        /**
         * Builds the pool, which starts resolving and connecting at once.
         *
         * @throws IllegalArgumentException if the settings break a rule (named in the message)
         */
        public WarmPool<A, Req, Res> build() {
            settings();
            return new WarmPool<>(this);
        }
    }
}
