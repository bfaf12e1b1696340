package dev.belfry.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.grpc.server.HealthService;
import dev.belfry.health.registry.CheckResult;
import dev.belfry.health.registry.Dependency;
import dev.belfry.health.registry.HealthRegistry;
import dev.belfry.test.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The gRPC health service follows the health registry that serves HTTP's /ready. */
class HealthServiceTest {
    private final ManualClock clock = new ManualClock();
    private final AtomicReference<CheckResult> database = new AtomicReference<>(CheckResult.healthy());
    private final HealthService health = new HealthService();
    private HealthRegistry registry;
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        registry = HealthRegistry.builder()
                .clock(clock)
                .dependency(Dependency.required("database", () -> CompletableFuture.completedFuture(database.get()))
                        .withFall(1)
                        .withRise(1))
                .build();
        clock.runDue(); // the first check, which the registry starts at once
        server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(health.bindableService())
                .build()
                .start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                .usePlaintext()
                .build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        registry.close();
    }

    private ServingStatus check(String service) {
        return HealthGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build())
                .getStatus();
    }

    @Test
    void theServerServesExactlyWhileTheRegistryIsReady() {
        try (HealthRegistry.Registration following = health.follow(registry)) {
            assertThat(check("")).isEqualTo(ServingStatus.SERVING);

            database.set(CheckResult.unhealthy("connection refused"));
            clock.advance(Duration.ofSeconds(5)); // the next check
            assertThat(registry.report().ready()).isFalse();
            assertThat(check("")).as("a required dependency is down").isEqualTo(ServingStatus.NOT_SERVING);

            database.set(CheckResult.healthy());
            clock.advance(Duration.ofSeconds(5));
            assertThat(check("")).isEqualTo(ServingStatus.SERVING);

            registry.drain();
            assertThat(check("")).as("draining").isEqualTo(ServingStatus.NOT_SERVING);
            registry.cancelDrain();
            assertThat(check("")).isEqualTo(ServingStatus.SERVING);
        }
        registry.drain();
        assertThat(check("")).as("no longer following").isEqualTo(ServingStatus.SERVING);
    }

    @Test
    void aNamedServiceCanFollowTheRegistry() {
        try (HealthRegistry.Registration following = health.follow(registry, "users.UserService")) {
            assertThat(check("users.UserService")).isEqualTo(ServingStatus.SERVING);
            registry.drain();
            assertThat(check("users.UserService")).isEqualTo(ServingStatus.NOT_SERVING);
            assertThat(check("")).as("the whole server is set on its own").isEqualTo(ServingStatus.SERVING);
        }
    }
}
