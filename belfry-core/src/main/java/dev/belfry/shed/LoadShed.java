package dev.belfry.shed;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.OverloadedException;
import dev.belfry.Readiness;
import dev.belfry.Service;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * Rejects a request at once with {@link OverloadedException} when the inner service has no capacity
 * for it now, instead of waiting.
 *
 * <p>{@link #call} is the inner service's {@link Service#tryCall}: admitted requests proceed as
 * usual, the others fail without reaching the inner service. It never waits and never admits more
 * than the inner service would. Because it always answers at once, it is always {@link
 * Readiness#READY} until the inner service closes. Thread-safe; holds no state.
 */
public final class LoadShed<Req, Res> implements Service<Req, Res> {
    private final Service<Req, Res> inner;

    /** Wraps {@code inner}, shedding the requests it cannot admit now. */
    public LoadShed(Service<Req, Res> inner) {
        this.inner = Checks.notNull(inner, "inner");
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        CompletableFuture<Res> admitted;
        try {
            admitted = inner.tryCall(request);
        } catch (RuntimeException | Error e) {
            return Futures.failed(e);
        }
        if (admitted == null) {
            return Futures.failed(new OverloadedException("service overloaded: load shed"));
        }
        return admitted;
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        return inner.tryCall(request);
    }

    /** {@link Readiness#READY} unless the inner service is closed: a call is always answered at once. */
    @Override
    public Readiness readiness() {
        return inner.readiness() == Readiness.CLOSED ? Readiness.CLOSED : Readiness.READY;
    }

    /** Completes at once: this service is never busy. */
    @Override
    public CompletionStage<Void> whenReady() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public String toString() {
        return "LoadShed[" + inner + "]";
    }
}
