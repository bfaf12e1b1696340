package dev.belfry.load;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The shared shape of every measure: counts pending requests and tells the subclass when each one
 * ends, exactly once.
 */
abstract class Tracked<Req, Res> extends Forwarding<Req, Res, Req, Res> implements Loaded<Req, Res> {
    private static final System.Logger LOG = System.getLogger(Tracked.class.getName());

    private final AtomicInteger pending = new AtomicInteger();

    Tracked(Service<Req, Res> inner) {
        super(inner);
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        long start = started();
        return track(Futures.call(inner, request), start);
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        long start = started();
        CompletableFuture<Res> admitted;
        try {
            admitted = inner.tryCall(request);
        } catch (RuntimeException | Error e) {
            admitted = Futures.failed(e);
        }
        if (admitted == null) {
            pending.decrementAndGet();
            return null;
        }
        return track(admitted, start);
    }

    // Counted before the inner call, so a concurrent load() never sees the request as absent.
    private long started() {
        pending.incrementAndGet();
        return startTime();
    }

    private CompletableFuture<Res> track(CompletableFuture<Res> inflight, long start) {
        // A new future, so our bookkeeping runs before the caller's own callbacks see the result.
        CompletableFuture<Res> result = new CompletableFuture<>();
        inflight.whenComplete((response, failure) -> {
            // The inner future completes once (cancellation completes it too): one decrement per call.
            pending.decrementAndGet();
            try {
                completed(start, response, failure);
            } catch (RuntimeException | Error e) {
                // User code (a pushback test) failed: the measure misses one sample, the caller
                // still gets its answer, and the in-flight count above has already fallen.
                LOG.log(System.Logger.Level.WARNING, "load measure " + this + " failed to record a response", e);
            } finally {
                Futures.completeFrom(result, response, failure);
            }
        });
        Futures.propagateCancellation(result, inflight);
        return result;
    }

    /** The number of requests admitted and not yet completed. */
    public final int pending() {
        return pending.get();
    }

    /** A timestamp taken when a request is admitted; zero if the measure needs none. */
    long startTime() {
        return 0;
    }

    /**
     * Called once per admitted request when it ends; {@code failure} is a cancellation for a
     * cancelled request.
     */
    void completed(long start, @Nullable Res response, @Nullable Throwable failure) {}
}
