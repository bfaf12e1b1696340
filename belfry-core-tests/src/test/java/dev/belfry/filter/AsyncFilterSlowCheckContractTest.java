package dev.belfry.filter;

import dev.belfry.Service;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The service contract for an {@link AsyncFilter} whose check completes later (on the clock, when
 * the contract settles), so the slow path is held to the same rules as the immediate one.
 */
class AsyncFilterSlowCheckContractTest extends LayerContractTest {

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return AsyncFilterLayer.<String, String, String>of(request -> {
                    CompletableFuture<String> check = new CompletableFuture<>();
                    clock.schedule(Duration.ZERO, () -> check.complete(request));
                    return check;
                })
                .wrap(inner);
    }
}
