package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.discover.Discover;
import dev.belfry.load.Load;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class P2cBalancerTest extends BalancerContract {
    @Override
    <K, V> Balancer.Builder<K, V, String, String> strategy(Balancer.Builder<K, V, String, String> builder) {
        return builder.p2c();
    }

    @Test
    void ofTwoEndpointsTheLessLoadedGetsTheRequest() {
        Balancer<String, String> balancer = Balancer.builder(Discover.of(endpoints("a", a, "b", b)))
                .p2c(Load.pending())
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .build();
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            calls.add(balancer.call("x" + i));
        }
        assertThat(a.handle().admitted()).isEqualTo(5);
        assertThat(b.handle().admitted()).isEqualTo(5);
        for (int i = 0; i < 5; i++) {
            a.handle().respondNext("done");
        }
        calls.add(balancer.call("next"));
        assertThat(a.handle().admitted()).isEqualTo(6);
        a.handle().respondNext("done");
        for (int i = 0; i < 5; i++) {
            b.handle().respondNext("done");
        }
        assertThat(calls).allMatch(CompletableFuture::isDone);
        balancer.close();
    }

    @Test
    void spreadsEvenlyOverIdleEqualEndpoints() {
        Map<String, Service<String, String>> endpoints =
                endpoints("a", named("a"), "b", named("b"), "c", named("c"), "d", named("d"));
        Balancer<String, String> balancer = balancer(Discover.of(endpoints));
        Map<String, Integer> counts = spread(balancer, 4000);
        assertThat(counts.values()).allMatch(count -> count > 900 && count < 1100);
        balancer.close();
    }

    @Test
    void bothChoicesAreDrawnFromTheEndpointsNotAvoided() {
        // c is loaded (5 requests held); a is avoided. Drawing the pair from all three would hand c
        // every request whose pair was {a, c} (a third of them): the avoided a loses, and c is then
        // taken without being compared with b.
        Balancer<String, String> balancer = Balancer.builder(
                        Discover.of(endpoints("a", named("a"), "b", named("b"), "c", c)))
                .p2c(Load.pending())
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .build();
        List<CompletableFuture<String>> held = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Routed<String> routed = balancer.tryRoute("held" + i, Set.of("a", "b"));
            assertThat(routed).isNotNull();
            assertThat(routed.endpoint()).isEqualTo("c");
            held.add(routed.response());
        }
        Map<Object, Integer> counts = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            Routed<String> routed = balancer.tryRoute("k" + i, Set.of("a"));
            assertThat(routed).isNotNull();
            counts.merge(routed.endpoint(), 1, Integer::sum);
        }
        assertThat(counts).as("b, idle, always beats the loaded c").isEqualTo(Map.of("b", 300));
        for (int i = 0; i < 5; i++) {
            c.handle().respondNext("C");
        }
        assertThat(held).allMatch(CompletableFuture::isDone);
        balancer.close();
    }

    @Test
    void ofThreeEndpointsTheLeastLoadedGetsEveryRequest() {
        // a holds two requests, b one, c none and answers at once. A random pair of the three is
        // {a, b} a third of the time, and then b would get the request although c is idle.
        Balancer<String, String> balancer = Balancer.builder(Discover.of(endpoints("a", a, "b", b, "c", named("c"))))
                .p2c(Load.pending())
                .clock(clock)
                .random(new SplittableRandom(SEED))
                .build();
        List<CompletableFuture<String>> held = new ArrayList<>();
        held.add(balancer.tryRoute("a1", Set.of("b", "c")).response());
        held.add(balancer.tryRoute("a2", Set.of("b", "c")).response());
        held.add(balancer.tryRoute("b1", Set.of("a", "c")).response());
        assertThat(a.handle().admitted()).isEqualTo(2);
        assertThat(b.handle().admitted()).isEqualTo(1);
        assertThat(spread(balancer, 300)).isEqualTo(Map.of("c", 300));
        assertThat(a.handle().admitted()).isEqualTo(2);
        assertThat(b.handle().admitted()).isEqualTo(1);
        a.handle().respondNext("A");
        a.handle().respondNext("A");
        b.handle().respondNext("B");
        assertThat(held).allMatch(CompletableFuture::isDone);
        balancer.close();
    }

    @Test
    void spreadsEvenlyOverThreeIdleEqualEndpoints() {
        Balancer<String, String> balancer =
                balancer(Discover.of(endpoints("a", named("a"), "b", named("b"), "c", named("c"))));
        Map<String, Integer> counts = spread(balancer, 3000);
        assertThat(counts).containsOnlyKeys("a", "b", "c");
        assertThat(counts.values()).allMatch(count -> count > 900 && count < 1100);
        balancer.close();
    }
}
