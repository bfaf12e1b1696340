package dev.belfry.health;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Service;
import java.util.concurrent.CompletionStage;

/**
 * An active probe of one endpoint: completes normally if the endpoint passed, exceptionally (with
 * the reason) if it failed.
 *
 * <p>Transport-specific checks (a TCP connect, an HTTP {@code GET /health}, {@code grpc.health.v1})
 * implement this; {@link HealthMonitor} runs it on an interval with a timeout and hysteresis. A
 * check must not block; cancelling the returned stage's future should abandon the probe (the
 * monitor cancels it on timeout).
 */
@FunctionalInterface
public interface HealthCheck {

    /** Starts one probe; the stage completes normally on a pass, exceptionally on a failure. */
    CompletionStage<?> check();

    /** A check that sends {@code probe} to {@code service} and passes if it answers successfully. */
    static <Req> HealthCheck calling(Service<Req, ?> service, Req probe) {
        Checks.notNull(service, "service");
        Checks.notNull(probe, "probe");
        return () -> Futures.call(service, probe);
    }
}
