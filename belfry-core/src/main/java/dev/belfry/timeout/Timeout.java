package dev.belfry.timeout;

import dev.belfry.Checks;
import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.internal.Relay;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Fails a request with {@link ElapsedException} if the inner service has not answered within a fixed
 * duration, and cancels the inner call.
 *
 * <p>The timer starts at {@link #call}, so time spent queued inside inner layers (a concurrency
 * limit, a buffer) counts. Thread-safe. Cancelling the returned future cancels the timer and the
 * inner call.
 */
public final class Timeout<Req, Res> extends Forwarding<Req, Res, Req, Res> {
    private final Duration limit;
    private final Clock clock;

    /** Wraps {@code inner} with a timeout of {@code limit}, timed on {@code clock}. */
    public Timeout(Service<Req, Res> inner, Duration limit, Clock clock) {
        super(inner);
        this.limit = Checks.positive(limit, "timeout");
        this.clock = Checks.notNull(clock, "clock");
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        return guard(Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        CompletableFuture<Res> admitted = inner.tryCall(request);
        return admitted == null ? null : guard(admitted);
    }

    private CompletableFuture<Res> guard(CompletableFuture<Res> inflight) {
        if (inflight.isDone()) {
            return inflight;
        }
        return new Guard<>(inflight, limit, clock);
    }

    /** The caller's future: the inner call's outcome, or {@link ElapsedException} at the limit. */
    private static final class Guard<Res> extends Relay<Res, Res> implements Runnable {
        private final Duration limit;
        private final Clock.Scheduled timer;

        Guard(CompletableFuture<Res> inflight, Duration limit, Clock clock) {
            super(inflight);
            this.limit = limit;
            // Armed before attaching, so an inner call that completes at once still finds it.
            this.timer = clock.schedule(limit, this);
            attach();
        }

        /** The timer fired: whoever completes first wins; only the timer's win cancels the call. */
        @Override
        public void run() {
            if (completeExceptionally(new ElapsedException(limit))) {
                source().cancel(false);
            }
        }

        @Override
        protected void onSettled() {
            timer.cancel();
        }

        @Override
        protected void onCancelled() {
            timer.cancel();
        }
    }

    /** The configured timeout. */
    public Duration limit() {
        return limit;
    }

    @Override
    public String toString() {
        return "Timeout[" + limit + "]";
    }
}
