package dev.belfry.proxy.admin;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * What the admin server and {@link ProxyMetrics} read from the running proxy: snapshots of its
 * listeners, clusters and backends, its recent errors and reload results, and the reload hook.
 *
 * <p>The proxy engine implements this. The admin server calls the snapshot methods on its event loop
 * for each request and {@link ProxyMetrics} calls them once per scrape, so they must be cheap and must
 * not block: read counters (e.g. {@link java.util.concurrent.atomic.LongAdder} sums) and volatile
 * state, and build the records from them. Counters may be read while they change; a snapshot need not
 * be atomic across backends, but each value should be monotonic where its name says "total".
 *
 * <p>Thread-safety: implementations must allow every method to be called from any thread, at the same
 * time as the engine changes its state.
 */
public interface ProxyStatus {
    /**
     * Asks each of the proxy's I/O threads to run a task; completes with the names of those that
     * did not within {@code within} (empty: all answered). {@code GET /live} answers 200 only when
     * the list is empty. Must not block. The default has no threads to ask: it completes empty.
     */
    default CompletionStage<List<String>> unresponsiveIoThreads(Duration within) {
        return CompletableFuture.completedFuture(List.of());
    }

    /** Whether a configuration has been loaded and applied (false while starting up). */
    boolean configLoaded();

    /** Whether the proxy is draining: shutting down, no longer accepting, finishing open connections. */
    boolean draining();

    /** The listeners now, in configuration order. */
    List<ListenerStatus> listeners();

    /** The clusters now, in configuration order, each with its backends. */
    List<ClusterStatus> clusters();

    /** The most recent errors, newest first; the engine bounds how many it keeps (a few dozen). */
    List<RecentError> recentErrors();

    /** The result of the most recent reload, or null if there has been none since start. */
    @Nullable
    ReloadResult lastReload();

    /**
     * Reloads the configuration: reads and validates it, applies it if valid, records the result as
     * {@link #lastReload()} and returns it.
     *
     * <p>The admin server calls this for {@code POST /reload} on a thread of its own, never on an event
     * loop, and never twice at once; it may block while it reads and applies the configuration. An
     * exception is reported to the caller as a server error (500); a rejected configuration should be
     * returned as {@link ReloadResult#rejected}, not thrown.
     *
     * @throws Exception if the reload failed for a reason other than an invalid configuration
     */
    ReloadResult reload() throws Exception;
}
