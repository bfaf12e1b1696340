package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.belfry.Service;
import dev.belfry.discover.Discover;
import dev.belfry.discover.DiscoverSource;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WeightedRandomBalancerTest extends BalancerContract {
    @Override
    <K, V> Balancer.Builder<K, V, String, String> strategy(Balancer.Builder<K, V, String, String> builder) {
        return builder.weightedRandom();
    }

    record Weighted(Service<String, String> service, int weight) {}

    @Test
    void sharesInProportionToWeightWithinTwoPercent() {
        Map<String, Weighted> endpoints = new LinkedHashMap<>();
        endpoints.put("a", new Weighted(named("a"), 1));
        endpoints.put("b", new Weighted(named("b"), 2));
        endpoints.put("c", new Weighted(named("c"), 3));
        Balancer<String, String> balancer = Balancer.builder(
                        Discover.of(endpoints), (String key, Weighted w) -> w.service())
                .weightedRandom()
                .weight(Weighted::weight)
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .build();
        int calls = 60_000;
        Map<String, Integer> counts = spread(balancer, calls);
        assertThat(counts.get("a") / (double) calls).isCloseTo(1 / 6.0, within(0.02));
        assertThat(counts.get("b") / (double) calls).isCloseTo(2 / 6.0, within(0.02));
        assertThat(counts.get("c") / (double) calls).isCloseTo(3 / 6.0, within(0.02));
        balancer.close();
    }

    @Test
    void anEndpointWhoseSlowStartIsRestartedRampsUpAgain() {
        DiscoverSource<String, Service<String, String>> source = DiscoverSource.create();
        source.put("a", named("a"));
        source.put("b", named("b"));
        Balancer<String, String> balancer = Balancer.builder(source)
                .weightedRandom()
                .slowStart(Duration.ofSeconds(10))
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .build();
        clock.advance(Duration.ofSeconds(10));
        int calls = 20_000;
        assertThat(spread(balancer, calls).get("b") / (double) calls).isCloseTo(0.5, within(0.02));

        balancer.restartSlowStart("b"); // back from an ejection, say
        assertThat(spread(balancer, calls).get("b") / (double) calls).isCloseTo(0.1 / 1.1, within(0.02));
        clock.advance(Duration.ofSeconds(5));
        assertThat(spread(balancer, calls).get("b") / (double) calls).isCloseTo(0.5 / 1.5, within(0.02));
        clock.advance(Duration.ofSeconds(5));
        assertThat(spread(balancer, calls).get("b") / (double) calls).isCloseTo(0.5, within(0.02));

        balancer.restartSlowStart("gone"); // unknown keys are ignored
        assertThat(spread(balancer, calls).get("a") / (double) calls).isCloseTo(0.5, within(0.02));
        balancer.close();
    }

    @Test
    void restartingSlowStartWithoutASlowStartWindowChangesNothing() {
        DiscoverSource<String, Service<String, String>> source = DiscoverSource.create();
        source.put("a", named("a"));
        source.put("b", named("b"));
        Balancer<String, String> balancer = Balancer.builder(source)
                .weightedRandom()
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .build();
        balancer.restartSlowStart("b");
        int calls = 20_000;
        assertThat(spread(balancer, calls).get("b") / (double) calls).isCloseTo(0.5, within(0.02));
        balancer.close();
    }

    @Test
    void aNewEndpointRampsUpOverTheSlowStartWindow() {
        DiscoverSource<String, Service<String, String>> source = DiscoverSource.create();
        source.put("old", named("old"));
        Balancer<String, String> balancer = Balancer.builder(source)
                .weightedRandom()
                .slowStart(Duration.ofSeconds(10))
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .build();
        clock.advance(Duration.ofSeconds(10));
        source.put("new", named("new"));
        int calls = 20_000;
        // At age 0 the new endpoint has a tenth of its share: 0.1 / 1.1 of the traffic.
        assertThat(spread(balancer, calls).get("new") / (double) calls).isCloseTo(0.1 / 1.1, within(0.02));
        clock.advance(Duration.ofSeconds(5));
        assertThat(spread(balancer, calls).get("new") / (double) calls).isCloseTo(0.5 / 1.5, within(0.02));
        clock.advance(Duration.ofSeconds(5));
        assertThat(spread(balancer, calls).get("new") / (double) calls).isCloseTo(0.5, within(0.02));
        balancer.close();
    }
}
