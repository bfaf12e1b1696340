/**
 * The {@code belfry} command and the running proxy.
 *
 * <pre>
 *   Main ─┬─ demo   : DemoCommand  ── demo backends + ProxyServer (embedded config)
 *         ├─ run    : RunCommand   ── ConfigLoader ── ProxyServer ── signals (TERM/INT drain, HUP reload)
 *         ├─ check  : CheckCommand ── ConfigLoader (every problem as FILE:LINE:COLUMN)
 *         └─ core-demo : the service core's layers, in-process
 *
 *   ProxyServer ── l4.L4Proxy (listeners, clusters, relays)
 *               └─ admin.AdminServer + admin.ProxyMetrics (reads ProxyServer as ProxyStatus)
 * </pre>
 *
 * <p>{@link dev.belfry.proxy.ProxyServer} owns one event-loop group for the relay, the engine and the
 * admin server; it reloads by validating a whole new file before applying it, and drains by
 * stopping the listeners and waiting up to the longest cluster {@code drain_timeout}. See {@code
 * docs/proxy.md} for operators' documentation.
 */
@NullMarked
package dev.belfry.proxy;

import org.jspecify.annotations.NullMarked;
