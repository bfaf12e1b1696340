package dev.belfry;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** Small helpers for {@link CompletableFuture} that every layer needs. */
public final class Futures {
    private Futures() {}

    /**
     * Returns the failure a caller should see: strips the {@link CompletionException} and {@link
     * ExecutionException} wrappers that {@code CompletableFuture} adds.
     */
    public static Throwable unwrap(Throwable failure) {
        Throwable current = failure;
        while ((current instanceof CompletionException || current instanceof ExecutionException)
                && current.getCause() != null) {
            current = current.getCause();
        }
        return current;
    }

    /**
     * Completes {@code target} with {@code value}, or with the unwrapped {@code failure} if it is not
     * null. Returns whether this call completed it.
     */
    public static <T> boolean completeFrom(
            CompletableFuture<T> target, @Nullable T value, @Nullable Throwable failure) {
        if (failure == null) {
            return target.complete(value);
        }
        Throwable cause = unwrap(failure);
        if (cause instanceof CancellationException) {
            return target.cancel(false);
        }
        return target.completeExceptionally(cause);
    }

    /** Returns a future already failed with {@code failure}. */
    public static <T> CompletableFuture<T> failed(Throwable failure) {
        return CompletableFuture.failedFuture(failure);
    }

    /**
     * Cancels {@code inner} when {@code outer} is cancelled: the wire that carries a caller's
     * cancellation down to the work it started. An {@link AbandonedException} is passed on as it
     * is (to a {@link CompletableFuture}), so a load measure below still learns its lower bound.
     */
    public static void propagateCancellation(CompletableFuture<?> outer, Future<?> inner) {
        outer.whenComplete((ignored, failure) -> {
            if (failure instanceof AbandonedException abandoned && inner instanceof CompletableFuture<?> future) {
                // Still a cancellation below, and still saying how it came about.
                future.completeExceptionally(abandoned);
            } else if (failure instanceof CancellationException) {
                inner.cancel(false);
            }
        });
    }

    /**
     * Returns a future that mirrors {@code inner}: completes as it completes, and cancelling it
     * cancels {@code inner}.
     */
    public static <T> CompletableFuture<T> forward(CompletionStage<T> inner) {
        CompletableFuture<T> outer = new CompletableFuture<>();
        inner.whenComplete((value, failure) -> completeFrom(outer, value, failure));
        propagateCancellation(outer, inner.toCompletableFuture());
        return outer;
    }

    /**
     * Calls {@code supplier} and returns its future, turning a thrown exception or a null result into
     * a failed future. Layers use it to keep {@link Service#call} from throwing when user code does.
     */
    public static <T> CompletableFuture<T> guard(Supplier<? extends @Nullable CompletionStage<T>> supplier) {
        try {
            CompletionStage<T> stage = supplier.get();
            if (stage == null) {
                return failed(new NullPointerException("a service returned a null future"));
            }
            return stage.toCompletableFuture();
        } catch (RuntimeException | Error e) {
            return failed(e);
        }
    }

    /**
     * Calls {@code service} and returns its future, turning a thrown exception or a null future into
     * a failed future: how a layer keeps its own {@code call} from throwing when an inner service
     * breaks the contract. Allocates nothing on the normal path.
     */
    public static <Req, Res> CompletableFuture<Res> call(Service<Req, Res> service, Req request) {
        CompletableFuture<Res> future;
        try {
            future = service.call(request);
        } catch (RuntimeException | Error e) {
            return failed(e);
        }
        return future != null ? future : failed(new NullPointerException(service + " returned a null future"));
    }

    /**
     * Releases a response nobody will receive (a retried or hedged attempt's, or one that arrived
     * after its caller cancelled): closes it if it is {@link AutoCloseable}, ignoring what the close
     * throws, since there is no one left to tell.
     */
    public static void discard(@Nullable Object response) {
        if (response instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // The response is being thrown away; a failure to close it has no one to report to.
            }
        }
    }

    /** Whether {@code failure}, once unwrapped, guarantees the request was never sent. */
    public static boolean isUnprocessed(Throwable failure) {
        return unwrap(failure) instanceof UnprocessedException;
    }
}
