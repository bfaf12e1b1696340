package dev.belfry.proxy.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/** A {@link ProxyStatus} whose every answer the test sets; thread-safe through volatile fields. */
final class FakeStatus implements ProxyStatus {
    static final Instant T0 = Instant.parse("2026-11-21T10:15:30Z");

    volatile boolean configLoaded = true;
    volatile boolean draining;
    volatile List<ListenerStatus> listeners = List.of();
    volatile List<ClusterStatus> clusters = List.of();
    volatile List<RecentError> recentErrors = List.of();
    volatile @Nullable ReloadResult lastReload;
    volatile Callable<ReloadResult> reloadHook = () -> ReloadResult.applied(T0);
    volatile @Nullable RuntimeException clustersFailure;
    /** What {@code /live} is told: the I/O threads that did not answer, when it completes. */
    volatile CompletionStage<List<String>> unresponsiveIoThreads = CompletableFuture.completedFuture(List.of());

    final AtomicInteger reloads = new AtomicInteger();
    /** How many times {@code /live} asked for the unresponsive I/O threads. */
    final AtomicInteger liveAsked = new AtomicInteger();

    @Override
    public CompletionStage<List<String>> unresponsiveIoThreads(Duration within) {
        liveAsked.incrementAndGet();
        return unresponsiveIoThreads;
    }

    /** One listener {@code web} in front of cluster {@code app} with two healthy backends. */
    static FakeStatus healthy() {
        var status = new FakeStatus();
        status.listeners = List.of(new ListenerStatus("web", "0.0.0.0:8080", "app", 3, 7, 1));
        status.clusters = List.of(new ClusterStatus(
                "app",
                List.of(
                        backend("10.0.0.1:80", BackendState.HEALTHY, 2, 0, null, 100, 2000),
                        backend("10.0.0.2:80", BackendState.HEALTHY, 1, 4, "connection refused", 50, 900))));
        return status;
    }

    static BackendStatus backend(
            String address,
            BackendState state,
            long active,
            long failures,
            @Nullable String lastError,
            long toBackend,
            long toClient) {
        return new BackendStatus(
                address, state, active, failures, lastError, List.of(new Traffic("web", toBackend, toClient)));
    }

    /** Replaces the backends of cluster {@code name}. */
    void setBackends(String name, BackendStatus... backends) {
        List<ClusterStatus> updated = new ArrayList<>();
        for (ClusterStatus cluster : clusters) {
            updated.add(cluster.name().equals(name) ? new ClusterStatus(name, List.of(backends)) : cluster);
        }
        clusters = List.copyOf(updated);
    }

    @Override
    public boolean configLoaded() {
        return configLoaded;
    }

    @Override
    public boolean draining() {
        return draining;
    }

    @Override
    public List<ListenerStatus> listeners() {
        return listeners;
    }

    @Override
    public List<ClusterStatus> clusters() {
        RuntimeException failure = clustersFailure;
        if (failure != null) {
            throw failure;
        }
        return clusters;
    }

    @Override
    public List<RecentError> recentErrors() {
        return recentErrors;
    }

    @Override
    public @Nullable ReloadResult lastReload() {
        return lastReload;
    }

    @Override
    public ReloadResult reload() throws Exception {
        reloads.incrementAndGet();
        ReloadResult result = reloadHook.call();
        lastReload = result;
        return result;
    }
}
