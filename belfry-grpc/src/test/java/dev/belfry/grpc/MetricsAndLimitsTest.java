package dev.belfry.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.belfry.channel.AddressSource;
import dev.belfry.grpc.server.ServerLimits;
import dev.belfry.grpc.server.ServerMetrics;
import dev.belfry.grpc.test.EchoGrpc;
import dev.belfry.grpc.test.EchoReply;
import dev.belfry.grpc.test.EchoRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Client and server metrics, and the server's limits, on real loopback calls. */
@Timeout(60)
class MetricsAndLimitsTest {

    private static double counter(PrometheusRegistry registry, String name, Labels labels) {
        for (MetricSnapshot snapshot : registry.scrape()) {
            if (snapshot instanceof CounterSnapshot counter
                    && snapshot.getMetadata().getName().equals(name)) {
                return counter.getDataPoints().stream()
                        .filter(point -> point.getLabels().equals(labels))
                        .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue)
                        .sum();
            }
        }
        return 0;
    }

    private static long histogramCount(PrometheusRegistry registry, String name, Labels labels) {
        for (MetricSnapshot snapshot : registry.scrape()) {
            if (snapshot instanceof HistogramSnapshot histogram
                    && snapshot.getMetadata().getName().equals(name)) {
                return histogram.getDataPoints().stream()
                        .filter(point -> point.getLabels().equals(labels))
                        .mapToLong(HistogramSnapshot.HistogramDataPointSnapshot::getCount)
                        .sum();
            }
        }
        return 0;
    }

    private static EchoRequest text(String text) {
        return EchoRequest.newBuilder().setText(text).build();
    }

    @Test
    void clientAndServerCountEveryCallByTheCodeItClosedWith() throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        try (EchoServer server = new EchoServer("s0", ServerMetrics.on(registry));
                WarmGrpcChannel channel = WarmGrpcChannel.builder("echo", AddressSource.of(List.of(server.address())))
                        .pool(pool -> pool.healthyMin(1))
                        .metrics(registry)
                        .build()) {
            channel.whenReady().toCompletableFuture().get(10, TimeUnit.SECONDS);
            EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
            for (int i = 0; i < 5; i++) {
                stub.say(text("ok"));
            }
            assertThatThrownBy(() -> stub.say(text("bad"))).isInstanceOf(StatusRuntimeException.class);

            Labels client = Labels.of("channel", "echo", "grpc_method", "Say", "grpc_service", "belfry.test.Echo");
            assertThat(counter(registry, "grpc_client_started", client)).isEqualTo(6);
            assertThat(counter(registry, "grpc_client_handled", client.add("grpc_code", "OK")))
                    .isEqualTo(5);
            assertThat(counter(registry, "grpc_client_handled", client.add("grpc_code", "INVALID_ARGUMENT")))
                    .isEqualTo(1);
            assertThat(histogramCount(registry, "grpc_client_handling_seconds", client))
                    .isEqualTo(6);

            Labels serverSide = Labels.of("grpc_method", "Say", "grpc_service", "belfry.test.Echo");
            assertThat(counter(registry, "grpc_server_started", serverSide)).isEqualTo(6);
            await().atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(
                                    counter(registry, "grpc_server_handled", serverSide.add("grpc_code", "OK")))
                            .isEqualTo(5));
            assertThat(counter(registry, "grpc_server_handled", serverSide.add("grpc_code", "INVALID_ARGUMENT")))
                    .isEqualTo(1);
            assertThat(histogramCount(registry, "grpc_server_handling_seconds", serverSide))
                    .isEqualTo(6);
            // The health checks are not the user's calls: the channel counts only calls made on it.
            assertThat(counter(
                            registry,
                            "grpc_client_started",
                            Labels.of(
                                    "channel",
                                    "echo",
                                    "grpc_method",
                                    "Watch",
                                    "grpc_service",
                                    "grpc.health.v1.Health")))
                    .isZero();
        }
    }

    @Test
    void theConcurrencyLimitShedsWithResourceExhaustedAndFreesThePermitWhenACallEnds() throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        ServerLimits limits = ServerLimits.builder().concurrencyLimit(1).build();
        try (EchoServer server = new EchoServer("s0", limits, ServerMetrics.on(registry));
                WarmGrpcChannel channel = WarmGrpcChannel.builder("echo", AddressSource.of(List.of(server.address())))
                        .pool(pool -> pool.healthyMin(1))
                        .build()) {
            channel.whenReady().toCompletableFuture().get(10, TimeUnit.SECONDS);
            CompletableFuture<EchoReply> slow = new CompletableFuture<>();
            EchoGrpc.newStub(channel)
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .say(text("slow").toBuilder().setDelayMillis(500).build(), observer(slow));
            await().atMost(Duration.ofSeconds(5)).until(() -> server.calls.get() == 1);

            EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
            assertThatThrownBy(() -> stub.say(text("second")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                        assertThat(e.getStatus().getDescription()).isEqualTo("concurrency limit of 1 reached");
                    });
            // Shed before the handler: the service never saw it.
            assertThat(server.calls.get()).isEqualTo(1);
            assertThat(slow.get(5, TimeUnit.SECONDS).getText()).isEqualTo("slow");
            // The permit came back with the first call's close.
            assertThat(stub.say(text("third")).getText()).isEqualTo("third");
            Labels say = Labels.of(
                    "grpc_code", "RESOURCE_EXHAUSTED", "grpc_method", "Say", "grpc_service", "belfry.test.Echo");
            assertThat(counter(registry, "grpc_server_handled", say)).isEqualTo(1);
        }
    }

    @Test
    void theRateLimitShedsCallsBeyondItsRate() throws Exception {
        ServerLimits limits =
                ServerLimits.builder().rateLimit(3, Duration.ofMinutes(1)).build();
        try (EchoServer server = new EchoServer("s0", limits);
                WarmGrpcChannel channel = WarmGrpcChannel.builder("echo", AddressSource.of(List.of(server.address())))
                        .pool(pool -> pool.healthyMin(1))
                        .build()) {
            channel.whenReady().toCompletableFuture().get(10, TimeUnit.SECONDS);
            EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
            for (int i = 0; i < 3; i++) {
                assertThat(stub.say(text("x" + i)).getText()).isEqualTo("x" + i);
            }
            assertThatThrownBy(() -> stub.say(text("over"))).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(e.getStatus().getDescription()).isEqualTo("rate limit of 3 per 1m exceeded");
            });
            assertThat(server.calls.get()).isEqualTo(3);
        }
    }

    @Test
    void aCallWhoseDeadlineHasPassedIsNotHandled() throws Exception {
        ServerLimits limits = ServerLimits.builder().build();
        try (EchoServer server = new EchoServer("s0", limits);
                WarmGrpcChannel channel = WarmGrpcChannel.builder("echo", AddressSource.of(List.of(server.address())))
                        .pool(pool -> pool.healthyMin(1))
                        .build()) {
            channel.whenReady().toCompletableFuture().get(10, TimeUnit.SECONDS);
            // A deadline of 1 µs has passed by the time the server looks at the call.
            assertThatThrownBy(() -> EchoGrpc.newBlockingStub(channel)
                            .withDeadlineAfter(1, TimeUnit.MICROSECONDS)
                            .say(text("late")))
                    .isInstanceOfSatisfying(
                            StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
            assertThat(server.calls.get()).isZero();
        }
    }

    private static StreamObserver<EchoReply> observer(CompletableFuture<EchoReply> result) {
        return new StreamObserver<>() {
            @Override
            public void onNext(EchoReply value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        };
    }
}
