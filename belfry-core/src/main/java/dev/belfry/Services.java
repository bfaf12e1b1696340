package dev.belfry;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/** Factories for simple services: from functions, from blocking code, constant and failing ones. */
public final class Services {
    private Services() {}

    /**
     * A service from an asynchronous function. Exceptions it throws and null futures it returns
     * become failed futures; the function's own future is returned (so cancelling it reaches the
     * function's work).
     */
    public static <Req, Res> Service<Req, Res> of(Function<? super Req, ? extends CompletionStage<Res>> function) {
        Checks.notNull(function, "function");
        return request -> Futures.guard(() -> function.apply(request));
    }

    /** A service that computes the response synchronously on the caller's thread. */
    public static <Req, Res> Service<Req, Res> fromFunction(Function<? super Req, ? extends Res> function) {
        Checks.notNull(function, "function");
        return request -> {
            try {
                return CompletableFuture.completedFuture(function.apply(request));
            } catch (RuntimeException | Error e) {
                return Futures.failed(e);
            }
        };
    }

    /**
     * A service that runs blocking code, one virtual thread per call, so it never blocks an event
     * loop or a caller.
     *
     * <p>Cancelling a call interrupts its thread. {@link Service#close} stops the executor; calls
     * made after it fail with {@link ServiceClosedException}.
     */
    public static <Req, Res> Service<Req, Res> blocking(Function<? super Req, ? extends Res> function) {
        Checks.notNull(function, "function");
        return new BlockingService<>(function);
    }

    /** A service that answers every request with {@code response}. */
    public static <Req, Res> Service<Req, Res> constant(Res response) {
        CompletableFuture<Res> done = CompletableFuture.completedFuture(response);
        return request -> done.copy();
    }

    /** A service that fails every request with {@code failure}. */
    public static <Req, Res> Service<Req, Res> failing(Throwable failure) {
        Checks.notNull(failure, "failure");
        return request -> Futures.failed(failure);
    }

    private static final class BlockingService<Req, Res> implements Service<Req, Res> {
        private final Function<? super Req, ? extends Res> function;
        private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        private final AtomicBoolean closed = new AtomicBoolean();

        BlockingService(Function<? super Req, ? extends Res> function) {
            this.function = function;
        }

        @Override
        public CompletableFuture<Res> call(Req request) {
            CompletableFuture<Res> result = new CompletableFuture<>();
            Future<?> task;
            try {
                task = executor.submit(() -> {
                    try {
                        result.complete(function.apply(request));
                    } catch (RuntimeException | Error e) {
                        result.completeExceptionally(e);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return Futures.failed(new ServiceClosedException("blocking service is closed", e));
            }
            result.whenComplete((ignored, failure) -> {
                if (result.isCancelled()) {
                    task.cancel(true);
                }
            });
            return result;
        }

        @Override
        public Readiness readiness() {
            return closed.get() ? Readiness.CLOSED : Readiness.READY;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                executor.shutdownNow();
            }
        }
    }
}
