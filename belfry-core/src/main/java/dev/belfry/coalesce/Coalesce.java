package dev.belfry.coalesce;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.event.ResilienceListener;
import dev.belfry.time.Clock;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
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
    private final Clock clock;
    private final ResilienceListener listener;
    private final ConcurrentHashMap<Object, Entry> entries = new ConcurrentHashMap<>();
    /** Cached entries in expiry order (the time to live is fixed); guarded by itself. */
    private final ArrayDeque<Entry> cached = new ArrayDeque<>();

    Coalesce(
            Service<Req, Res> inner,
            Function<? super Req, ?> key,
            long ttlNanos,
            int maxCached,
            Clock clock,
            ResilienceListener listener) {
        this.inner = Checks.notNull(inner, "inner");
        this.key = Checks.notNull(key, "key");
        this.ttlNanos = ttlNanos;
        this.maxCached = maxCached;
        this.clock = Checks.notNull(clock, "clock");
        this.listener = ResilienceListener.guarded(listener);
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
                    return fresh.first;
                }
            }
            CompletableFuture<Res> joined = entry.join();
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
            if (entry != null) {
                // Joining needs no capacity below: it is admitted whatever the inner readiness.
                CompletableFuture<Res> joined = entry.join();
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
            return fresh.first;
        }
    }

    private @Nullable CompletableFuture<Res> guardedTryCall(Req request) {
        try {
            return inner.tryCall(request);
        } catch (RuntimeException | Error e) {
            return Futures.failed(e);
        }
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

    /** One shared call and the callers waiting for it; afterwards, possibly its cached response. */
    private final class Entry {
        final Object key;
        /** The creator's future, counted as the first waiter before the entry is published. */
        final CompletableFuture<Res> first = new CompletableFuture<>();

        private final CompletableFuture<Res> shared = new CompletableFuture<>();
        private @Nullable CompletableFuture<Res> inflight; // guarded by this
        private int waiters = 1; // guarded by this
        private boolean abandoned; // guarded by this
        private boolean done; // guarded by this
        private boolean cacheable; // guarded by this
        private @Nullable Res value; // guarded by this
        private long expiresAt; // guarded by this

        Entry(Object key) {
            this.key = key;
            attach(first);
        }

        void start(CompletableFuture<Res> call) {
            boolean cancel;
            synchronized (this) {
                inflight = call;
                cancel = abandoned;
            }
            if (cancel) {
                call.cancel(false);
            }
            call.whenComplete(this::complete);
        }

        private void complete(@Nullable Res response, @Nullable Throwable failure) {
            boolean keep = failure == null && ttlNanos > 0;
            synchronized (this) {
                done = true;
                if (keep) {
                    cacheable = true;
                    value = response;
                    expiresAt = clock.nanoTime() + ttlNanos;
                }
            }
            // Joiners that found the entry before this point are attached to `shared`; joiners
            // after it read `done` under the lock and get the outcome from `shared` too.
            Futures.completeFrom(shared, response, failure);
            if (keep) {
                remember(this);
            } else {
                entries.remove(key, this);
            }
        }

        /** A future for one more waiter, or null if this entry can no longer be joined. */
        @Nullable
        CompletableFuture<Res> join() {
            CompletableFuture<Res> waiter;
            synchronized (this) {
                if (abandoned) {
                    return null;
                }
                if (done) {
                    if (cacheable) {
                        if (expired(clock.nanoTime())) {
                            return null;
                        }
                        listener.onCoalescedJoin(true);
                        return CompletableFuture.completedFuture(value);
                    }
                    // Completed but not yet forgotten: this caller arrived as the call ended and
                    // gets its outcome, cancellation included, like any waiter.
                    CompletableFuture<Res> late = new CompletableFuture<>();
                    listener.onCoalescedJoin(false);
                    shared.whenComplete((response, failure) -> Futures.completeFrom(late, response, failure));
                    return late;
                }
                waiters++;
                waiter = new CompletableFuture<>();
            }
            listener.onCoalescedJoin(false);
            attach(waiter);
            return waiter;
        }

        private void attach(CompletableFuture<Res> waiter) {
            shared.whenComplete((response, failure) -> Futures.completeFrom(waiter, response, failure));
            waiter.whenComplete((response, failure) -> {
                if (waiter.isCancelled()) {
                    leave();
                }
            });
        }

        /** A waiter cancelled; the last one out cancels the shared call. */
        private void leave() {
            CompletableFuture<Res> call;
            synchronized (this) {
                if (done || abandoned || --waiters > 0) {
                    return;
                }
                abandoned = true;
                call = inflight;
            }
            entries.remove(key, this);
            if (call != null) {
                call.cancel(false);
            }
        }

        synchronized boolean expired(long now) {
            return cacheable && now - expiresAt >= 0;
        }
    }
}
