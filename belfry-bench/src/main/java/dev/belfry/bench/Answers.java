package dev.belfry.bench;

import dev.belfry.Service;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The trivial service every benchmark wraps, in its two shapes: {@code completed} answers at once
 * (the layers see a completed future), {@code deferred} answers just after the call returns (the
 * layers must arm whatever they arm for an answer still to come: timers, callbacks).
 *
 * @param <Res> the response type
 */
final class Answers<Res> {
    private final boolean deferred;
    private final Res response;
    private CompletableFuture<Res> pending = new CompletableFuture<>();

    /** {@code shape} is a benchmark's {@code inner} parameter: {@code completed} or {@code deferred}. */
    Answers(String shape, Res response) {
        if (!shape.equals("completed") && !shape.equals("deferred")) {
            throw new IllegalArgumentException("inner must be completed or deferred, was " + shape);
        }
        this.deferred = shape.equals("deferred");
        this.response = response;
    }

    /** The bare service, answering every request with the response, in this shape. */
    <Req> Service<Req, Res> service() {
        if (!deferred) {
            return request -> CompletableFuture.completedFuture(response);
        }
        return request -> {
            CompletableFuture<Res> next = new CompletableFuture<>();
            pending = next;
            return next;
        };
    }

    /** Answers the call in flight if deferred, then waits for {@code stage} (already complete). */
    <T> T finish(CompletionStage<T> stage) {
        if (deferred) {
            pending.complete(response);
        }
        return stage.toCompletableFuture().join();
    }
}
