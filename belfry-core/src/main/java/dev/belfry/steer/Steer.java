package dev.belfry.steer;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * Routes each request to one of several services, chosen per request by a {@link Picker}.
 *
 * <p>Only the chosen service's capacity matters: {@link #call} waits for that service alone and
 * {@link #tryCall} admits if that service admits now. A busy service never holds up requests bound
 * for another one. (Tower's {@code Steer} waits until every service is ready before routing any
 * request, so one slow service stalls all of them; this one does not.)
 *
 * <p>{@link #readiness} is {@code READY} if any service is ready, {@code CLOSED} if all are closed,
 * and {@code BUSY} otherwise: a snapshot that cannot know which service the next request will
 * pick. {@link #whenReady} completes when any busy service may have become ready.
 *
 * <p>Thread-safe if the picker is. Cancelling a call cancels it in the chosen service.
 */
public final class Steer<Req, Res> implements Service<Req, Res> {
    private final List<Service<Req, Res>> services;
    private final Picker<? super Req> picker;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Steer(List<Service<Req, Res>> services, Picker<? super Req> picker) {
        this.services = services;
        this.picker = picker;
    }

    /**
     * Routes requests among {@code services}, in the order given, using {@code picker}.
     *
     * @throws NullPointerException if {@code services}, one of them, or {@code picker} is null
     * @throws IllegalArgumentException if {@code services} is empty
     */
    public static <Req, Res> Steer<Req, Res> of(
            List<? extends Service<Req, Res>> services, Picker<? super Req> picker) {
        Checks.notNull(services, "services");
        Checks.notNull(picker, "picker");
        if (services.isEmpty()) {
            throw new IllegalArgumentException("services must not be empty");
        }
        List<Service<Req, Res>> copy = new ArrayList<>(services.size());
        for (int i = 0; i < services.size(); i++) {
            copy.add(Checks.notNull(services.get(i), "services[" + i + "]"));
        }
        return new Steer<>(Collections.unmodifiableList(copy), picker);
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        if (closed.get()) {
            return Futures.failed(new ServiceClosedException("steer is closed"));
        }
        Service<Req, Res> chosen;
        try {
            chosen = choose(request);
        } catch (RuntimeException | Error e) {
            return Futures.failed(e);
        }
        return Futures.call(chosen, request);
    }

    /**
     * Admits the request if the service the picker chooses admits it now; a picker failure is
     * returned as a failed future rather than {@code null}, since waiting would not fix it.
     */
    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        if (closed.get()) {
            return null;
        }
        try {
            return choose(request).tryCall(request);
        } catch (RuntimeException | Error e) {
            return Futures.failed(e);
        }
    }

    private Service<Req, Res> choose(Req request) {
        int count = services.size();
        int index = picker.pick(request, count);
        if (index < 0 || index >= count) {
            throw new IllegalStateException("picker returned " + index + " for " + count
                    + " services; it must return an index in [0, " + count + ")");
        }
        return services.get(index);
    }

    @Override
    public Readiness readiness() {
        if (closed.get()) {
            return Readiness.CLOSED;
        }
        Readiness combined = Readiness.CLOSED;
        for (Service<Req, Res> service : services) {
            combined = combined.or(service.readiness());
            if (combined == Readiness.READY) {
                return combined;
            }
        }
        return combined;
    }

    /** Completes when any service that is busy now may have become ready, or at once if none is busy. */
    @Override
    public CompletionStage<Void> whenReady() {
        if (closed.get()) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<Void>> signals = new ArrayList<>();
        for (Service<Req, Res> service : services) {
            Readiness readiness = service.readiness();
            if (readiness == Readiness.READY) {
                return CompletableFuture.completedFuture(null);
            }
            // A closed service's signal is already complete and would wake the caller for nothing.
            if (readiness == Readiness.BUSY) {
                signals.add(service.whenReady().toCompletableFuture());
            }
        }
        if (signals.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        if (signals.size() == 1) {
            return signals.get(0);
        }
        return CompletableFuture.anyOf(signals.toArray(CompletableFuture<?>[]::new))
                .thenApply(ignored -> null);
    }

    /** Closes every service. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        RuntimeException first = null;
        for (Service<Req, Res> service : services) {
            try {
                service.close();
            } catch (RuntimeException e) {
                // Close the rest anyway; report the first contract breach once all are closed.
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** The services requests are routed among, in picker order. */
    public List<Service<Req, Res>> services() {
        return services;
    }

    @Override
    public String toString() {
        return "Steer[" + services.size() + " services]";
    }
}
