package dev.belfry.coalesce;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.time.Clock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Lets concurrent identical requests share one call to the inner service: the first starts it,
 * the others wait for its outcome.
 *
 * <p>Requests are identical when a key function maps them to equal keys; a {@code null} key means
 * "never share" (use it for requests that are not idempotent). Every waiter gets the shared call's
 * response or failure, unchanged. A waiter that cancels leaves the others waiting; the shared call
 * is cancelled only when every waiter has cancelled. A request that finds a call for its key that
 * has just completed, but not yet been forgotten, gets that call's outcome: no waiter is ever left
 * hanging.
 *
 * <p>Optionally, successful responses are kept for a short time to live and served to later
 * identical requests. The cache is bounded: entries are forgotten when they expire (checked on the
 * injected clock by later calls, with no background thread or timer) and the oldest are evicted
 * beyond a maximum count. Failures are never cached. Responses are handed to several callers, so
 * they must be immutable (no streamed bodies).
 *
 * <p>Thread-safe.
 */
public final class Coalesce<Req, Res> implements Service<Req, Res> {
    private final Service<Req, Res> inner;
    private final Function<? super Req, ?> key;
    private final long ttlNanos;
    private final int maxCached;
    private final long maxShareNanos;
    private final Clock clock;
    private final CoalesceListener listener;
    private final ConcurrentHashMap<Object, Entry> entries = new ConcurrentHashMap<>();
    /** Cached entries in expiry order (the time to live is fixed); guarded by itself. */
    private final ArrayDeque<Entry> cached = new ArrayDeque<>();

    Coalesce(
            Service<Req, Res> inner,
            Function<? super Req, ?> key,
            long ttlNanos,
            int maxCached,
            long maxShareNanos,
            Clock clock,
            CoalesceListener listener) {
        this.inner = Checks.notNull(inner, "inner");
        this.key = Checks.notNull(key, "key");
        this.ttlNanos = ttlNanos;
        this.maxCached = maxCached;
        this.maxShareNanos = maxShareNanos;
        this.clock = Checks.notNull(clock, "clock");
        this.listener = CoalesceListener.guarded(listener);
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        Object k;
        try {
            k = key.apply(request);
        } catch (RuntimeException e) {
            return Futures.failed(e);
        }
        if (k == null) {
            return Futures.call(inner, request);
        }
        expire();
        while (true) {
            Entry entry = entries.get(k);
            if (entry == null) {
                Entry fresh = new Entry(k);
                entry = entries.putIfAbsent(k, fresh);
                if (entry == null) {
                    // Published before the call starts: identical requests arriving now join it.
                    fresh.start(Futures.call(inner, request));
                    return fresh;
                }
            }
            if (tooOldToShare(entry)) {
                // A call in flight past the share limit (hung, say) takes no more waiters: this
                // request starts a fresh one; the old call keeps its waiters until they leave.
                Entry fresh = new Entry(k);
                if (entries.replace(k, entry, fresh)) {
                    fresh.start(Futures.call(inner, request));
                    return fresh;
                }
                continue;
            }
            CompletableFuture<Res> joined = entry.addWaiter();
            if (joined != null) {
                return joined;
            }
            entries.remove(k, entry); // abandoned or expired: make way for a fresh call
        }
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        Object k;
        try {
            k = key.apply(request);
        } catch (RuntimeException e) {
            return Futures.failed(e);
        }
        if (k == null) {
            return guardedTryCall(request);
        }
        expire();
        while (true) {
            Entry entry = entries.get(k);
            if (entry != null && tooOldToShare(entry)) {
                CompletableFuture<Res> admitted = guardedTryCall(request);
                if (admitted == null) {
                    return null;
                }
                Entry fresh = new Entry(k);
                if (!entries.replace(k, entry, fresh)) {
                    return Futures.forward(admitted); // the table changed meanwhile; ours is made
                }
                fresh.start(admitted);
                return fresh;
            }
            if (entry != null) {
                // Joining needs no capacity below: it is admitted whatever the inner readiness.
                CompletableFuture<Res> joined = entry.addWaiter();
                if (joined != null) {
                    return joined;
                }
                entries.remove(k, entry);
                continue;
            }
            // Admission first, publication second: a refused tryCall leaves no trace.
            CompletableFuture<Res> admitted = guardedTryCall(request);
            if (admitted == null) {
                return null;
            }
            Entry fresh = new Entry(k);
            if (entries.putIfAbsent(k, fresh) != null) {
                // Another caller published a call for this key meanwhile; ours is already made.
                return Futures.forward(admitted);
            }
            fresh.start(admitted);
            return fresh;
        }
    }

    private @Nullable CompletableFuture<Res> guardedTryCall(Req request) {
        try {
            return inner.tryCall(request);
        } catch (RuntimeException | Error e) {
            return Futures.failed(e);
        }
    }

    /** Whether {@code entry}'s call has been shared for too long for new requests to join it. */
    private boolean tooOldToShare(Entry entry) {
        return maxShareNanos > 0 && entry.sharedTooLong();
    }

    /** Forgets cached entries whose time to live has passed. */
    private void expire() {
        if (ttlNanos == 0) {
            return;
        }
        long now = clock.nanoTime();
        synchronized (cached) {
            Entry head;
            while ((head = cached.peek()) != null && head.expired(now)) {
                cached.poll();
                entries.remove(head.key, head);
            }
        }
    }

    /** Remembers a successful entry for the time to live, evicting the oldest beyond the bound. */
    private void remember(Entry entry) {
        synchronized (cached) {
            cached.add(entry);
            while (cached.size() > maxCached) {
                Entry oldest = cached.poll();
                entries.remove(oldest.key, oldest);
            }
        }
    }

    /**
     * Forgets what is held for {@code key} (the request's key, as the key function gives it): a
     * cached response, and a call in flight, which keeps its waiters but takes no new ones and is
     * not cached when it ends. The next request for the key calls the inner service. Call it after
     * a write that changes what the key reads, so no request that starts afterwards sees the old
     * value from here.
     */
    public void invalidate(Object key) {
        Checks.notNull(key, "key");
        Entry entry = entries.remove(key);
        if (entry != null) {
            entry.invalidated = true;
            synchronized (cached) {
                cached.remove(entry);
            }
        }
    }

    /** How many keys have a call in flight or a cached response; for tests. */
    int trackedKeys() {
        return entries.size();
    }

    @Override
    public Readiness readiness() {
        return inner.readiness();
    }

    @Override
    public CompletionStage<Void> whenReady() {
        return inner.whenReady();
    }

    @Override
    public void close() {
        synchronized (cached) {
            for (Entry entry : cached) {
                entries.remove(entry.key, entry);
            }
            cached.clear();
        }
        inner.close();
    }

    @Override
    public String toString() {
        return "Coalesce[" + entries.size() + " keys]";
    }

    private static final VarHandle LINK;

    static {
        try {
            LINK = MethodHandles.lookup().findVarHandle(Coalesce.Entry.class, "link", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The callers that joined a shared call besides its creator; guarded by the entry. */
    private static final class Joiners<R> {
        /** Follows the shared call from when it starts; every joiner's future follows it. */
        final CompletableFuture<R> shared = new CompletableFuture<>();

        @Nullable
        CompletableFuture<R> call;
        /** The creator plus the joiners that have not cancelled. */
        int waiters = 1;

        /**
         * The joiners' own futures, completed when the call ends; a joiner that cancels is removed,
         * so a long call that many callers join and leave holds only those still waiting. Guarded
         * by this object (taken inside the entry's lock, never the other way round).
         */
        private final IdentityHashMap<CompletableFuture<R>, Boolean> futures = new IdentityHashMap<>();

        private boolean settled;

        /** When the first joiner arrived: the start of the share limit. */
        final long sharedAt;

        Joiners(@Nullable CompletableFuture<R> call, long sharedAt) {
            this.call = call;
            this.sharedAt = sharedAt;
        }

        /** Adds a joiner's future; false if the call has already settled every joiner. */
        synchronized boolean register(CompletableFuture<R> waiter) {
            return !settled && futures.put(waiter, Boolean.TRUE) == null;
        }

        synchronized void unregister(CompletableFuture<R> waiter) {
            futures.remove(waiter);
        }

        private void settle(@Nullable R response, @Nullable Throwable failure) {
            Futures.completeFrom(shared, response, failure);
            List<CompletableFuture<R>> waiting;
            synchronized (this) {
                settled = true;
                waiting = List.copyOf(futures.keySet());
                futures.clear();
            }
            for (CompletableFuture<R> waiter : waiting) {
                Futures.completeFrom(waiter, response, failure);
            }
        }

        /** Whether the shared call ended: later arrivals get its outcome without counting as waiters. */
        boolean ended() {
            return call != null && call.isDone();
        }

        /** Makes {@link #shared} follow the call; once per entry, outside its lock. */
        void follow(CompletableFuture<R> call) {
            call.whenComplete(this::settle);
        }
    }

    /** Marks an entry every waiter has left: it can no longer be joined. */
    private enum Abandoned {
        INSTANCE
    }

    /** The response of a call that succeeded, kept until {@code expiresAt}. */
    private record Cached<R>(@Nullable R value, long expiresAt) {}

    /**
     * One shared call and the callers waiting for it; afterwards, possibly its cached response.
     *
     * <p>The entry is also its creator's future and the shared call's completion callback, so a call
     * nobody joins costs this one object and takes no lock. Its {@link #link} holds the rest: null
     * until the call starts; then the call itself while nobody joins it; {@link Joiners} once
     * someone does; a {@link Cached} response after a success when caching; or {@link Abandoned}.
     * It changes under the entry's lock, except from null, which is a compare-and-set because a
     * synchronous call settles without the lock. The call ends before the entry settles, so a
     * caller that finds the call complete gets its outcome from it without joining.
     */
    private final class Entry extends CompletableFuture<Res> implements BiConsumer<Res, Throwable> {
        final Object key;
        private volatile @Nullable Object link;
        /** Set by {@link Coalesce#invalidate}: no longer in the table, so not worth caching. */
        volatile boolean invalidated;

        Entry(Object key) {
            this.key = key;
        }

        /**
         * Whether the call, still running, was first joined longer than the share limit ago. The
         * age counts from the first joiner, so a call nobody joins (the common miss) reads no
         * clock and carries no timestamp.
         */
        boolean sharedTooLong() {
            return link instanceof Joiners<?> joiners
                    && !joiners.ended()
                    && clock.nanoTime() - joiners.sharedAt >= maxShareNanos;
        }

        void start(CompletableFuture<Res> call) {
            if (call.isDone() && !call.isCompletedExceptionally()) {
                // A synchronous response: settle at once, without a callback on the call.
                finish(call, call.getNow(null), null);
                return;
            }
            if (!LINK.compareAndSet(this, null, call) && !joinersFollow(call)) {
                call.cancel(false); // every waiter left before the call started
            }
            call.whenComplete(this);
        }

        /**
         * Someone joined before the call started: gives the joiners the call. Returns false if
         * every waiter has left instead.
         */
        private boolean joinersFollow(CompletableFuture<Res> call) {
            Joiners<Res> joiners;
            synchronized (this) {
                if (!(link instanceof Joiners<?> j)) {
                    return false;
                }
                joiners = joiners(j);
                joiners.call = call;
            }
            joiners.follow(call);
            return true;
        }

        /** The shared call ended. */
        @Override
        public void accept(@Nullable Res response, @Nullable Throwable failure) {
            finish(null, response, failure);
        }

        /** Settles the entry; {@code call} is the call if it completed as it started, else null. */
        private void finish(
                @Nullable CompletableFuture<Res> call, @Nullable Res response, @Nullable Throwable failure) {
            if (call != null && !LINK.compareAndSet(this, null, call)) {
                joinersFollow(call);
            }
            boolean keep = failure == null && ttlNanos > 0 && !invalidated;
            if (keep) {
                synchronized (this) {
                    if (link instanceof Abandoned) {
                        keep = false;
                    } else {
                        link = new Cached<>(response, clock.nanoTime() + ttlNanos);
                    }
                }
            }
            // Still in the table: callers arriving now, even from the creator's callbacks, find
            // the call complete and get its outcome.
            Futures.completeFrom(this, response, failure);
            if (keep) {
                remember(this);
            } else {
                entries.remove(key, this);
            }
        }

        /** A future for one more waiter, or null if this entry can no longer be joined. */
        @Nullable
        CompletableFuture<Res> addWaiter() {
            CompletableFuture<Res> waiter = new CompletableFuture<>();
            CompletableFuture<Res> source;
            Joiners<Res> created = null;
            boolean late;
            synchronized (this) {
                while (true) {
                    Object current = link;
                    if (current instanceof Abandoned) {
                        return null;
                    }
                    if (current instanceof Cached<?> cached) {
                        if (clock.nanoTime() - cached.expiresAt() >= 0) {
                            return null;
                        }
                        listener.onCoalescedJoin(true);
                        return CompletableFuture.completedFuture(cachedValue(cached));
                    }
                    if (current instanceof Joiners<?> j) {
                        Joiners<Res> joiners = joiners(j);
                        late = joiners.ended();
                        if (!late) {
                            joiners.waiters++;
                        }
                        source = joiners.shared;
                        break;
                    }
                    CompletableFuture<Res> call = callOf(current);
                    if (call != null && call.isDone()) {
                        late = true;
                        source = call;
                        break;
                    }
                    Joiners<Res> joiners = new Joiners<>(call, maxShareNanos > 0 ? clock.nanoTime() : 0);
                    joiners.waiters++;
                    if (LINK.compareAndSet(this, current, joiners)) {
                        late = false;
                        source = joiners.shared;
                        created = joiners;
                        break;
                    }
                    // A synchronous call settled meanwhile: look again.
                }
            }
            if (created != null && created.call != null) {
                created.follow(created.call);
            }
            // A late caller arrived as the call ended and gets its outcome, cancellation included,
            // like any waiter, but cannot cancel a call that is over.
            listener.onCoalescedJoin(false);
            Joiners<Res> registry = late ? null : joinersOf(source);
            if (registry == null || !registry.register(waiter)) {
                // Late, or the call settled since: the source is complete or about to be.
                source.whenComplete((response, failure) -> Futures.completeFrom(waiter, response, failure));
            }
            if (!late) {
                waiter.whenComplete((response, failure) -> {
                    if (waiter.isCancelled()) {
                        if (registry != null) {
                            registry.unregister(waiter);
                        }
                        leave();
                    }
                });
            }
            return waiter;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            if (cancelled) {
                leave();
            }
            return cancelled;
        }

        @Override
        public boolean completeExceptionally(Throwable failure) {
            boolean completed = super.completeExceptionally(failure);
            if (completed && isCancelled()) {
                leave();
            }
            return completed;
        }

        /** A waiter cancelled; the last one out cancels the shared call. */
        private void leave() {
            CompletableFuture<Res> call;
            synchronized (this) {
                Object current = link;
                if (current instanceof Joiners<?> j) {
                    Joiners<Res> joiners = joiners(j);
                    if (joiners.ended() || --joiners.waiters > 0) {
                        return;
                    }
                    call = joiners.call;
                } else if (current == null || current instanceof CompletableFuture<?>) {
                    call = callOf(current);
                    if (call != null && call.isDone()) {
                        return; // the call ended: its callback settles the entry
                    }
                } else {
                    return; // cached or already abandoned
                }
                if (!LINK.compareAndSet(this, current, Abandoned.INSTANCE)) {
                    return; // a synchronous call settled meanwhile
                }
            }
            entries.remove(key, this);
            if (call != null) {
                call.cancel(false);
            }
        }

        boolean expired(long now) {
            return link instanceof Cached<?> cached && now - cached.expiresAt() >= 0;
        }

        /** The joiners whose shared future {@code source} is, if the link still holds them. */
        @SuppressWarnings("ReferenceEquality") // the very same future, not an equal one
        private @Nullable Joiners<Res> joinersOf(CompletableFuture<Res> source) {
            return link instanceof Joiners<?> j && j.shared == source ? joiners(j) : null;
        }

        @SuppressWarnings("unchecked") // the link holds only this entry's call
        private @Nullable CompletableFuture<Res> callOf(@Nullable Object current) {
            return (CompletableFuture<Res>) current;
        }

        @SuppressWarnings("unchecked") // the link holds only this entry's joiners
        private Joiners<Res> joiners(Joiners<?> joiners) {
            return (Joiners<Res>) joiners;
        }

        @SuppressWarnings("unchecked") // the link holds only this entry's response
        private @Nullable Res cachedValue(Cached<?> cached) {
            return (Res) cached.value();
        }
    }
}
