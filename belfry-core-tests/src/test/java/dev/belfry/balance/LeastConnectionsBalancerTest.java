package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.discover.Discover;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class LeastConnectionsBalancerTest extends BalancerContract {
    @Override
    <K, V> Balancer.Builder<K, V, String, String> strategy(Balancer.Builder<K, V, String, String> builder) {
        return builder.leastConnections();
    }

    @Test
    void sendsEachRequestToTheEndpointWithFewestInFlight() {
        Balancer<String, String> balancer = balancer(Discover.of(endpoints("a", a, "b", b, "c", c)));
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            calls.add(balancer.call("x" + i));
        }
        // Held requests spread evenly: each new one goes where fewest are in flight.
        assertThat(a.handle().admitted()).isEqualTo(3);
        assertThat(b.handle().admitted()).isEqualTo(3);
        assertThat(c.handle().admitted()).isEqualTo(3);
        b.handle().respondNext("done");
        b.handle().respondNext("done");
        calls.add(balancer.call("next"));
        assertThat(b.handle().admitted()).isEqualTo(4);
        assertThat(balancer.endpoints()).extracting(EndpointStats::inflight).containsExactly(3, 2, 3);
        for (MockServiceDrain drain :
                List.of(new MockServiceDrain(a, 3), new MockServiceDrain(b, 2), new MockServiceDrain(c, 3))) {
            drain.run();
        }
        assertThat(calls).allMatch(CompletableFuture::isDone);
        balancer.close();
    }

    private record MockServiceDrain(dev.belfry.test.MockService<String, String> mock, int count) {
        void run() {
            for (int i = 0; i < count; i++) {
                mock.handle().respondNext("done");
            }
        }
    }
}
