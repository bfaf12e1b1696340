package dev.belfry.internal;

import dev.belfry.Futures;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * The future a layer returns for an inner call: completes as the inner call completes, and
 * cancelling it cancels the inner call.
 *
 * <p>It is its own completion callback and overrides {@link #cancel} instead of registering a
 * second callback, so relaying a call costs one object plus the single {@code whenComplete} node on
 * the inner future. Subclasses hook {@link #onSettled} (the inner call ended, before the caller sees
 * the outcome) and {@link #onCancelled} (the caller cancelled). Not API: layers in this project use
 * it; its shape may change.
 *
 * @param <S> the value type of the inner call
 * @param <T> the value type of this future; a subclass where it differs from {@code S} overrides
 *     {@link #accept}
 */
public class Relay<S, T> extends CompletableFuture<T> implements BiConsumer<S, Throwable> {
    private final CompletableFuture<S> source;

    /** A relay of {@code source}; call {@link #attach} once the subclass is ready for callbacks. */
    protected Relay(CompletableFuture<S> source) {
        this.source = source;
    }

    /** Relays {@code source}: the returned future completes with it, and cancelling it cancels it. */
    public static <T> CompletableFuture<T> of(CompletableFuture<T> source) {
        Relay<T, T> relay = new Relay<>(source);
        relay.attach();
        return relay;
    }

    /** Registers this relay on its source. Call once, last in the subclass's set-up. */
    protected final void attach() {
        source.whenComplete(this);
    }

    /** The inner call this relay follows. */
    protected final CompletableFuture<S> source() {
        return source;
    }

    /**
     * Called when the source completes: settles, then completes this future with its outcome. A
     * response that can no longer complete it (the caller cancelled, possibly from inside {@link
     * #onSettled}, whose release of a permit can run the next caller's work on this thread) reaches
     * no one and is discarded (closed if it is {@link AutoCloseable}).
     */
    @Override
    @SuppressWarnings("unchecked") // S is T unless a subclass overrides this method
    public void accept(@Nullable S value, @Nullable Throwable failure) {
        onSettled();
        if (!Futures.completeFrom(this, (T) value, failure) && failure == null) {
            Futures.discard(value);
        }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        if (cancelled) {
            onCancelled();
            source.cancel(false);
        }
        return cancelled;
    }

    /** The inner call ended in any way (including cancellation). Runs once. */
    protected void onSettled() {}

    /** The caller cancelled this future, before the inner call ended. */
    protected void onCancelled() {}
}
