package dev.belfry.http.timeout;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.internal.Relay;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Answers with a fixed status if the inner service has not produced a response head within the
 * limit, and cancels the inner call.
 *
 * <p>The timer starts at {@link #call} on the layer's clock, so time queued in inner layers counts.
 * A response that arrives after the timeout answered is discarded (its body released). Thread-safe;
 * cancelling the returned future cancels the timer and the inner call.
 */
public final class RequestTimeout extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final Duration limit;
    private final int status;
    private final Clock clock;

    RequestTimeout(Service<HttpRequest, HttpResponse> inner, Duration limit, int status, Clock clock) {
        super(inner);
        this.limit = limit;
        this.status = status;
        this.clock = clock;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        return guard(Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        CompletableFuture<HttpResponse> admitted = inner.tryCall(request);
        return admitted == null ? null : guard(admitted);
    }

    private CompletableFuture<HttpResponse> guard(CompletableFuture<HttpResponse> inflight) {
        if (inflight.isDone()) {
            return inflight;
        }
        return new Guard(inflight, this);
    }

    /** The configured limit. */
    public Duration limit() {
        return limit;
    }

    /** The status answered when the limit passes. */
    public int status() {
        return status;
    }

    @Override
    public String toString() {
        return "RequestTimeout[" + limit + " -> " + status + "]";
    }

    /** The caller's future: the inner response, or the timeout's response at the limit. */
    private static final class Guard extends Relay<HttpResponse, HttpResponse> implements Runnable {
        private final int status;
        private final Duration limit;
        private final Clock.Scheduled timer;

        Guard(CompletableFuture<HttpResponse> inflight, RequestTimeout owner) {
            super(inflight);
            this.status = owner.status;
            this.limit = owner.limit;
            // Armed before attaching, so an inner call that completes at once still finds it.
            this.timer = owner.clock.schedule(owner.limit, this);
            attach();
        }

        /** The timer fired: whoever completes first wins; only the timer's win cancels the call. */
        @Override
        public void run() {
            HttpResponse timedOut = HttpResponse.status(status)
                    .text("no response within " + limit.toMillis() + " ms\n")
                    .build();
            if (complete(timedOut)) {
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
}
