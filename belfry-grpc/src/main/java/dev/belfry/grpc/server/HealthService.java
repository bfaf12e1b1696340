package dev.belfry.grpc.server;

import dev.belfry.Checks;
import io.grpc.BindableService;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;

/**
 * The {@code grpc.health.v1.Health} service of a grpc-java server ({@code Check} and {@code
 * Watch}), fed by {@link #setStatus}: what a {@link dev.belfry.grpc.WarmGrpcChannel} (or any gRPC
 * health checker) probes.
 *
 * <pre>{@code
 * HealthService health = new HealthService();
 * Server server = NettyServerBuilder.forPort(8443)
 *         .addService(users)
 *         .addService(health.bindableService())
 *         .build().start();
 * health.setStatus("", false);       // the whole server: NOT_SERVING, Watchers told at once
 * }</pre>
 *
 * <p>The whole server ({@code ""}) starts {@code SERVING}; a named service is {@code
 * SERVICE_UNKNOWN} until its status is set. Built on grpc-services' {@link HealthStatusManager}.
 * Thread-safe.
 */
public final class HealthService {
    private final HealthStatusManager manager = new HealthStatusManager();

    /** The service to add to a server. */
    public BindableService bindableService() {
        return manager.getHealthService();
    }

    /** Sets {@code service} ({@code ""} for the whole server) serving or not serving. */
    public void setStatus(String service, boolean serving) {
        manager.setStatus(
                Checks.notNull(service, "service"), serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    }

    /** Forgets a named service's status: it answers {@code SERVICE_UNKNOWN} again. */
    public void clearStatus(String service) {
        manager.clearStatus(Checks.notNull(service, "service"));
    }

    /**
     * Marks every service {@code NOT_SERVING} for good (before a graceful shutdown, so clients move
     * away); later {@link #setStatus} calls are ignored.
     */
    public void enterShutdown() {
        manager.enterTerminalState();
    }
}
