package dev.belfry.proxy.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.OverloadedException;
import dev.belfry.Service;
import dev.belfry.proxy.config.BackendConfig;
import dev.belfry.proxy.config.Balancing;
import dev.belfry.proxy.config.ClusterConfig;
import dev.belfry.proxy.config.ProxyProtocol;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The protocol-neutral cluster stack, on strings and a manual clock. */
class ClusterTest {
    private static final InetSocketAddress A = InetSocketAddress.createUnresolved("a.test", 1);
    private static final InetSocketAddress B = InetSocketAddress.createUnresolved("b.test", 1);

    private final ManualClock clock = new ManualClock();
    private final Map<InetSocketAddress, MockService<String, String>> backends = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Void>> releases = new ConcurrentHashMap<>();
    private final List<Cluster<String, String>> built = new ArrayList<>();

    @AfterEach
    void close() {
        built.forEach(Cluster::close);
        assertThat(clock.pendingTasks()).isZero();
    }

    private static ClusterConfig config(int maxPerBackend, InetSocketAddress... addresses) {
        List<BackendConfig> configs = new ArrayList<>();
        for (InetSocketAddress address : addresses) {
            configs.add(new BackendConfig(address, 1));
        }
        return new ClusterConfig(
                "c",
                Balancing.ROUND_ROBIN,
                Duration.ofSeconds(1),
                2,
                maxPerBackend,
                ProxyProtocol.NONE,
                Duration.ofSeconds(5),
                null,
                null,
                configs,
                null);
    }

    private Cluster<String, String> cluster(ClusterConfig config) {
        Cluster<String, String> cluster = Cluster.<String, String>builder(config, clock)
                .connector((address, weight) -> backends.computeIfAbsent(address, a -> MockService.create()))
                .releasedWhen(response -> releases.computeIfAbsent(response, r -> new CompletableFuture<>()))
                .build();
        built.add(cluster);
        return cluster;
    }

    private MockService<String, String> backend(InetSocketAddress address) {
        return backends.get(address);
    }

    @Test
    void anUnprocessedFailureIsRetriedOnTheOtherBackend() {
        Cluster<String, String> cluster = cluster(config(10, A, B));
        CompletableFuture<String> result = cluster.call("req");
        MockService<String, String> first = backend(A).handle().admitted() == 1 ? backend(A) : backend(B);
        MockService<String, String> second = first == backend(A) ? backend(B) : backend(A);
        first.handle().next().fail(new OverloadedException("refused"));
        assertThat(second.handle().respondNext("from the other")).isEqualTo("req");
        assertThat(result).isCompletedWithValue("from the other");
        releases.get("from the other").complete(null);
    }

    @Test
    void aBackendsPermitIsHeldUntilItsResponseIsReleased() {
        Cluster<String, String> cluster = cluster(config(1, A));
        CompletableFuture<String> first = cluster.call("one");
        backend(A).handle().respondNext("conn-1");
        assertThat(first).isCompletedWithValue("conn-1");
        assertThat(cluster.ready())
                .as("the one permit is held by a live response")
                .isFalse();

        CompletableFuture<String> second = cluster.call("two");
        backend(A).handle().assertNoMoreRequests();
        releases.get("conn-1").complete(null);
        assertThat(backend(A).handle().respondNext("conn-2")).isEqualTo("two");
        assertThat(second).isCompletedWithValue("conn-2");
        releases.get("conn-2").complete(null);
        assertThat(cluster.ready()).isTrue();
    }

    @Test
    void replacingStaticBackendsKeepsTheOnesThatStay() {
        Cluster<String, String> cluster = cluster(config(10, A));
        MockService<String, String> a = backends.get(A);
        cluster.replaceBackends(List.of(new BackendConfig(A, 1), new BackendConfig(B, 1)));
        assertThat(backends.get(A)).isSameAs(a);
        assertThat(a.handle().closeCount()).isZero();
        assertThat(cluster.balancer().endpoints())
                .extracting(endpoint -> endpoint.key())
                .containsExactly(A, B);
    }

    @Test
    void permitsComeFromTheEngineSoAReloadKeepsLoad() {
        dev.belfry.limit.Permits shared = dev.belfry.limit.Permits.of(1);
        Cluster<String, String> cluster = Cluster.<String, String>builder(config(1, A), clock)
                .connector((address, weight) -> backends.computeIfAbsent(address, x -> MockService.create()))
                .permits(address -> shared)
                .build();
        built.add(cluster);
        assertThat(shared.tryAcquire()).isTrue();
        assertThat(cluster.ready()).as("an inherited connection still counts").isFalse();
        shared.release();
        assertThat(cluster.ready()).isTrue();
        Service<String, String> stack = cluster.service();
        CompletableFuture<String> call = stack.call("x");
        backend(A).handle().respondNext("X");
        assertThat(call).isCompletedWithValue("X");
        assertThat(shared.available())
                .as("released when the call completes by default")
                .isEqualTo(1);
    }
}
