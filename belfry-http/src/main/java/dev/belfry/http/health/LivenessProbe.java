package dev.belfry.http.health;

import dev.belfry.health.registry.CheckResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Whether this process is alive: answers {@code /live}. An unhealthy result (or a probe that fails
 * or times out) answers 503, which tells Kubernetes to restart the process.
 *
 * <p>Keep it about the process itself (an event loop that answers, a worker thread that is not
 * stuck, memory), never about dependencies: a database outage must make the process not
 * <em>ready</em>, not restart it. Must not block.
 */
@FunctionalInterface
public interface LivenessProbe {

    /** Starts one probe. */
    CompletionStage<CheckResult> check();

    /** The default: alive whenever {@code /live} is answered at all. */
    static LivenessProbe answering() {
        return () -> CompletableFuture.completedFuture(CheckResult.healthy());
    }
}
