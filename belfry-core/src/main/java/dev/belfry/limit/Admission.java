package dev.belfry.limit;

import dev.belfry.Futures;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** The queued path shared by the limits: wait for admission, then call, and carry cancellation. */
final class Admission {
    private Admission() {}

    /**
     * Returns the caller's future for a call that runs {@code proceed} once {@code admission}
     * completes.
     *
     * <p>A failed admission (a full queue) fails the call. Cancelling the returned future while it
     * waits cancels {@code admission}, which leaves the queue; if the caller gave up just as
     * admission arrived, {@code refund} gives back what was taken and {@code proceed} never runs.
     * Once running, cancelling the returned future cancels the call {@code proceed} started.
     */
    static <Res> CompletableFuture<Res> afterwards(
            CompletableFuture<Void> admission, Runnable refund, Supplier<CompletableFuture<Res>> proceed) {
        CompletableFuture<Res> result = new CompletableFuture<>();
        admission.whenComplete((ignored, failure) -> {
            if (failure != null) {
                Futures.completeFrom(result, null, failure);
            } else if (result.isDone()) {
                refund.run();
            } else {
                CompletableFuture<Res> inflight = proceed.get();
                inflight.whenComplete((response, error) -> Futures.completeFrom(result, response, error));
                // Registered after the check above, so a cancellation that raced it still lands.
                Futures.propagateCancellation(result, inflight);
            }
        });
        Futures.propagateCancellation(result, admission);
        return result;
    }
}
