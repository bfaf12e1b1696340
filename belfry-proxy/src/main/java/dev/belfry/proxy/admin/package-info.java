/**
 * The admin server: the proxy's HTTP endpoints for operators, orchestrators and Prometheus.
 *
 * <p>{@link dev.belfry.proxy.admin.AdminServer} is belfry-http's {@link
 * dev.belfry.http.server.HttpServer} serving a {@link dev.belfry.http.router.Router} of the
 * endpoints; its JSON is written by Jackson from records. It binds to
 * loopback ({@code 127.0.0.1:9901}) unless {@code [admin] listen} says otherwise: the endpoints
 * include a reload trigger and expose the topology, so exposing them beyond the host is a deliberate
 * choice. The proxy engine implements {@link dev.belfry.proxy.admin.ProxyStatus}, the only thing the
 * server reads, and feeds connect latencies to {@link dev.belfry.proxy.admin.ProxyMetrics}; the
 * core layers of its clusters report retries and breaker transitions through the listeners {@code
 * ProxyMetrics} hands out.
 *
 * <pre>
 *   engine ──implements──▶ ProxyStatus ◀──reads── AdminServer ── /live /ready /health / /reload
 *      │                        ▲
 *      ├─ connectLatency() ──▶ ProxyMetrics ──registry──▶ AdminServer ── /metrics
 *      └─ retryListener(), breakerListener() ──▶ ┘
 * </pre>
 *
 * <table>
 *   <caption>Endpoints</caption>
 *   <tr><th>request</th><th>answer</th></tr>
 *   <tr><td>{@code GET /live}</td><td>200 {@code live} once every I/O thread of the proxy has run a
 *       task it was given ({@link dev.belfry.proxy.admin.ProxyStatus#unresponsiveIoThreads}); 503
 *       naming those that did not within 2 s (a liveness probe: a stuck loop fails it)</td></tr>
 *   <tr><td>{@code GET /ready}</td><td>200 {@code ready} once a configuration is loaded, the proxy is
 *       not draining and every cluster has a healthy backend; otherwise 503 {@code not ready: } and the
 *       reasons, e.g. {@code draining} or {@code cluster app has no healthy backend}</td></tr>
 *   <tr><td>{@code GET /health}</td><td>200, JSON: readiness and its reasons, {@code draining}, the
 *       last reload (applied, or rejected with its problems), each listener's connection counts, each
 *       cluster's backends with state ({@code healthy}, {@code unhealthy}, {@code ejected},
 *       {@code probing}), active connections, connect failures, last error and bytes, and the recent
 *       errors</td></tr>
 *   <tr><td>{@code GET /metrics}</td><td>200, Prometheus text format 0.0.4 ({@code text/plain;
 *       version=0.0.4; charset=utf-8}); the metrics are listed on {@link
 *       dev.belfry.proxy.admin.ProxyMetrics}</td></tr>
 *   <tr><td>{@code GET /}</td><td>200, an HTML dashboard (inline CSS, no scripts, no external assets)
 *       that refreshes every 5 s: listeners, clusters, backends, state, connections, recent
 *       errors, and a reload button (a form posting to {@code /reload})</td></tr>
 *   <tr><td>{@code POST /reload}</td><td>200 {@code reloaded}; 400 with one problem per line
 *       ({@code FILE:LINE:COLUMN: message}) if the new configuration was rejected and the old one keeps
 *       running; 500 if the reload failed otherwise; 409 while another reload runs; 403 for a
 *       cross-origin browser request (an {@code Origin} that is not the server itself)</td></tr>
 * </table>
 *
 * <p>{@code HEAD} is answered wherever {@code GET} is. A known path asked with another method gets 405
 * with {@code Allow}; an unknown path gets 404. A body over 64 KiB gets 413; headers over 8 KiB get 431
 * and a request line over 4 KiB gets 414, both closing the connection; a request the decoder cannot
 * read gets 400 and a close. Connections idle for 60 s (configurable) are closed, as are those that
 * have not sent a whole request head by then. Every response carries {@code Cache-Control:
 * no-store}. One file descriptor is kept in reserve, so a probe is accepted and answered even when
 * the proxy's connections hold every other descriptor of the process.
 *
 * <p>Thread-safety: the server answers on its event loop; {@code POST /reload} runs the hook on a
 * thread of its own, one reload at a time. {@link dev.belfry.proxy.admin.ProxyMetrics} and the status
 * records are thread-safe.
 */
@NullMarked
package dev.belfry.proxy.admin;

import org.jspecify.annotations.NullMarked;
