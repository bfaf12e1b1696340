package dev.belfry.health;

import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * An endpoint service under a {@link HealthMonitor}: reports {@link Readiness#BUSY} and refuses
 * {@link #tryCall} while its endpoint is unhealthy or ejected (unless the monitor is in panic
 * mode), and reports every request's outcome to the monitor for outlier detection.
 *
 * <p>{@link #call} always forwards: health steers balancers, which admit with {@code tryCall}; it
 * does not block a caller that chose this endpoint on purpose. Responses, failures and
 * cancellation pass through unchanged. {@link #close} detaches it from the monitor (its checks stop
 * when no service is monitored under its key any more) and closes the inner service. Thread-safe.
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
public final class HealthChecked<Req, Res> implements Service<Req, Res> {
    private final HealthMonitor<?> monitor;
    private final Member<?> member;
    private final Service<Req, Res> inner;
    private final AtomicBoolean closed = new AtomicBoolean();

    HealthChecked(HealthMonitor<?> monitor, Member<?> member, Service<Req, Res> inner) {
        this.monitor = monitor;
        this.member = member;
        this.inner = inner;
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        return observe(Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        if (closed.get() || !monitor.admits(member)) {
            return null;
        }
        CompletableFuture<Res> admitted;
        try {
            admitted = inner.tryCall(request);
        } catch (RuntimeException | Error e) {
            admitted = Futures.failed(e);
        }
        return admitted == null ? null : observe(admitted);
    }

    private CompletableFuture<Res> observe(CompletableFuture<Res> inflight) {
        CompletableFuture<Res> result = new CompletableFuture<>();
        inflight.whenComplete((response, failure) -> {
            try {
                monitor.record(member, failure);
            } finally {
                // Whatever recording does, the caller gets its answer.
                Futures.completeFrom(result, response, failure);
            }
        });
        Futures.propagateCancellation(result, inflight);
        return result;
    }

    @Override
    public Readiness readiness() {
        Readiness below = inner.readiness();
        if (closed.get() || below == Readiness.CLOSED) {
            return Readiness.CLOSED;
        }
        return monitor.admits(member) ? below : Readiness.BUSY;
    }

    @Override
    public CompletionStage<Void> whenReady() {
        if (!monitor.admits(member)) {
            return monitor.changed(member);
        }
        return inner.whenReady();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            monitor.detach(member);
            inner.close();
        }
    }

    /** A snapshot of this endpoint's health. */
    public HealthState state() {
        return monitor.state(member);
    }

    @Override
    public String toString() {
        return "HealthChecked[" + member.key + ", " + member.status + "]";
    }
}
