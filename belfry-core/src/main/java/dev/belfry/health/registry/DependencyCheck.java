package dev.belfry.health.registry;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Service;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * One probe of a dependency (a database ping, a downstream service's health endpoint, free disk
 * space): an asynchronous function returning a {@link CheckResult}.
 *
 * <p>The {@link HealthRegistry} calls it on the dependency's schedule, never on a request's path,
 * bounds it with the dependency's timeout and measures its latency. A check must not block: wrap
 * blocking code yourself (for example {@code CompletableFuture.supplyAsync(ping,
 * virtualThreadExecutor)}). A check whose stage fails, that throws, or that returns {@code null}
 * counts as {@link Health#UNHEALTHY} with the failure as its message. On timeout the registry
 * cancels the stage's future, so a check that honours cancellation abandons its probe.
 */
@FunctionalInterface
public interface DependencyCheck {

    /** Starts one probe. */
    CompletionStage<CheckResult> check();

    /**
     * A check that runs {@code probe} and is healthy if its stage completes normally, unhealthy
     * with the failure's message if it fails: {@code DependencyCheck.completing(() -> db.ping())}.
     */
    static DependencyCheck completing(Supplier<? extends CompletionStage<?>> probe) {
        Checks.notNull(probe, "probe");
        return () -> {
            CompletableFuture<?> started;
            try {
                CompletionStage<?> stage = probe.get();
                started = stage != null
                        ? stage.toCompletableFuture()
                        : Futures.failed(new NullPointerException("the probe returned a null future"));
            } catch (RuntimeException e) {
                started = Futures.failed(e);
            }
            CompletableFuture<CheckResult> result = started.thenApply(ignored -> CheckResult.healthy());
            Futures.propagateCancellation(result, started); // a timed-out check abandons its probe
            return result;
        };
    }

    /** A check that sends {@code request} to {@code service}; healthy if it answers successfully. */
    static <Req> DependencyCheck calling(Service<Req, ?> service, Req request) {
        Checks.notNull(service, "service");
        Checks.notNull(request, "request");
        return completing(() -> Futures.call(service, request));
    }
}
