package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThatCode;

import dev.belfry.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's defect 5 (with the other four in {@code dev.belfry.compose.ComposeDefectsTest}): the
 * consistent-hash ring counted weight x 100 points per endpoint in an {@code int}, unbounded.
 */
class ConsistentHashRingSizeTest {

    @Test
    void buildsTheRingForEndpointCountsAndWeightsThatValidationAllows() {
        Service<String, String> service = request -> CompletableFuture.completedFuture(request);
        // 2148 x 10000 x 100 points is past Integer.MAX_VALUE; the balancer accepts 65535
        // endpoints of weight up to 10000.
        List<Endpoint<String, String>> endpoints = new ArrayList<>();
        for (int i = 0; i < 2148; i++) {
            endpoints.add(new Endpoint<>("e" + i, service, null, 10_000, 0));
        }
        Strategy.ConsistentHash<String, String> strategy = new Strategy.ConsistentHash<>(Function.identity(), 1.25);

        assertThatCode(() -> strategy.picker(endpoints)).doesNotThrowAnyException();
    }
}
