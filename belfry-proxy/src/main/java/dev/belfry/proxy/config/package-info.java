/**
 * The proxy's configuration: immutable, validated records read from TOML.
 *
 * <pre>
 *   TOML text ──► ConfigLoader.load / parse ──► ProxyConfig ─┬─ AdminConfig, LogConfig
 *                        │                                   ├─ ListenerConfig* ── cluster name ──┐
 *                        ▼                                   └─ ClusterConfig* ◄──────────────────┘
 *               ConfigException                                   ├─ BackendConfig* | DnsConfig
 *               └─ ConfigProblem*: FILE:LINE:COLUMN: message      └─ HealthCheckConfig?, OutlierConfig?
 * </pre>
 *
 * <p>A {@link dev.belfry.proxy.config.ProxyConfig} is a snapshot. Reload reads and validates a new
 * one completely before anything changes; an invalid file leaves the running snapshot in place.
 * Loading has no side effects: it binds nothing and resolves no names (backend host names stay
 * unresolved for the connector); whether a port is free is found out when {@code run} binds it.
 *
 * <p>The file format (full reference: {@code docs/configuration.md}):
 *
 * <ul>
 *   <li>top level: {@code io_threads} (default: the number of cores), {@code [admin] listen}
 *       (default {@code "127.0.0.1:9901"}), {@code [log] level} ({@code error}, {@code warn},
 *       {@code info} (default), {@code debug}, {@code trace}) and {@code json} (default false);
 *   <li>{@code [[listeners]]}: {@code name}, {@code listen}, {@code cluster}, {@code
 *       max_connections}, {@code idle_timeout}, {@code accept_proxy_protocol} ({@code "none"},
 *       {@code "v1"}, {@code "v2"}), {@code proxy_protocol_timeout} (with v1 or v2; default 5 s);
 *   <li>{@code [[clusters]]}: {@code name}, {@code balancer} (a {@link
 *       dev.belfry.proxy.config.Balancing#configName()}), {@code connect_timeout}, {@code
 *       connect_retries}, {@code max_connections_per_backend}, {@code send_proxy_protocol}, {@code
 *       drain_timeout}, an optional {@code [clusters.health_check]} and {@code
 *       [clusters.outlier_detection]}, and either {@code [[clusters.backends]]} ({@code address},
 *       {@code weight} 1 to 10000) or {@code [clusters.dns]} ({@code name}, {@code port});
 *   <li>or the short format of the original Rust proxy: top-level {@code host}, {@code port} and
 *       {@code [[backends]]} with {@code host}, {@code port}, {@code weight}, read as one listener
 *       and one weighted-random cluster, both named {@code default}.
 * </ul>
 *
 * <p>Durations are strings: a non-negative decimal number and one unit out of {@code ms}, {@code s},
 * {@code m}, {@code h} ({@code "250ms"}, {@code "1.5s"}, {@code "1m"}), at most a year. Addresses
 * are {@code HOST:PORT} with IPv6 in brackets; listeners take literal addresses, {@code localhost}
 * or {@code *} only, backends also take host names.
 *
 * <p>Errors: {@link dev.belfry.proxy.config.ConfigException} lists every {@link
 * dev.belfry.proxy.config.ConfigProblem}: syntax errors (reported alone, since a broken file cannot
 * be bound meaningfully), unknown keys (with the closest known key), wrong types, bad values,
 * missing keys, unknown clusters, duplicate names and colliding listen addresses. The records'
 * constructors check their own invariants too, so a record built in code is as valid as one read.
 *
 * <p>Keys, defaults and docs cannot drift apart: a table accepts exactly the keys its reading code
 * asks for (there is no separate list of keys; a key nothing reads is reported as unknown once
 * reading is done), the defaults are constants on the records, and {@code ConfigDocsTest} holds
 * {@code docs/configuration.md}'s examples to the loader (the same keys in every table, and the
 * values the full example gives are the defaults the loader applies).
 *
 * <p>Thread-safety: the records are immutable; {@code ConfigLoader} is stateless.
 */
@NullMarked
package dev.belfry.proxy.config;

import org.jspecify.annotations.NullMarked;
