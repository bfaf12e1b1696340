package dev.belfry.grpc.server;

import dev.belfry.Checks;
import dev.belfry.health.registry.HealthRegistry;
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
 * <p>{@link #follow} feeds it from the process's {@link HealthRegistry}, the one that serves HTTP's
 * {@code /ready}: the whole server is {@code SERVING} exactly while the registry's report is ready
 * (every required dependency up, not draining), so a required downstream that is down takes this
 * server out of its callers' rotation too.
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

    /**
     * Keeps {@code service}'s status ({@code ""} for the whole server) in step with {@code
     * registry}'s readiness: set at once from the current report, then on every change. Close the
     * returned registration to stop following.
     */
    public HealthRegistry.Registration follow(HealthRegistry registry, String service) {
        Checks.notNull(service, "service");
        return Checks.notNull(registry, "registry").subscribe(report -> setStatus(service, report.ready()));
    }

    /** Keeps the whole server's status in step with {@code registry}'s readiness. */
    public HealthRegistry.Registration follow(HealthRegistry registry) {
        return follow(registry, "");
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
