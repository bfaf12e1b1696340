/**
 * The L4 (TCP) proxy: listeners that relay each client connection to a backend of a cluster.
 *
 * <pre>
 *   client ──▶ listener (max connections, PROXY header in) ──▶ Relay ──▶ Cluster.connect
 *                                          (the cluster stack, dev.belfry.proxy.cluster)
 *                                                               │   RetryElsewhere (another backend)
 *                                                               │    └▶ Balancer (strategy)
 *                                                               │        └▶ HealthChecked (checks, ejection)
 *                                                               │            └▶ ConcurrencyLimit (held until close)
 *                                                               │                └▶ BackendConnector (connect)
 *                                                               ◀── BackendConnection (same event loop)
 *   bytes: client ⇄ Relay ⇄ backend, auto-read off, read only while the other side is writable
 * </pre>
 *
 * <p>{@link dev.belfry.proxy.l4.L4Proxy} is the engine, built from a {@link
 * dev.belfry.proxy.config.ProxyConfig}. A backend is a {@code Service<ConnectRequest,
 * BackendConnection>}: balancing, the per-backend connection limit, health and passive ejection are
 * core layers; connect failures ({@link dev.belfry.proxy.l4.ConnectFailedException}, unprocessed)
 * are retried on another backend, so the client never notices a refused backend while another one
 * answers.
 *
 * <p><b>Relay.</b> Both channels of a connection share one event loop. Reads are driven by the
 * other side's writability, so a slow reader costs at most a water mark (64 KiB) plus one read
 * batch per direction. A FIN is passed on as a half close; the connection closes when both
 * directions have ended, on the listener's idle timeout, or when the engine closes. A reset or I/O
 * error on one side is passed on as a reset of the other, so a stream cut short never looks whole.
 * On epoll (the default transport) the sockets are {@code io.netty.channel.epoll.RelayEpollSocketChannel}
 * and its listening counterpart, Belfry's own classes in Netty's package: Netty's epoll channels
 * without the per-connection address and option queries, {@code shutdown(SHUT_RD)} and {@code
 * epoll_ctl} calls a relay does not need. On NIO they are {@code NioRelayChannels}: Netty's NIO
 * channels without the per-connection system calls and exceptions a relay does not need.
 * One INFO line per closed connection goes to the {@code dev.belfry.proxy.l4.connections} logger
 * with the bytes each way, the duration, the backend and the reason.
 * One handler class serves both sides of a relay (one instance per channel, each relaying what it
 * reads to the other); the PROXY header has its own handler ahead of the client side. The byte
 * relay is tested over two {@code EmbeddedChannel}s ({@code RelayBytesTest}), the PROXY intake over
 * one ({@code RelayProxyHeaderTest}).
 * A relay sees the engine only through {@code RelayEngine} (admission, the cluster, the clock, the
 * register of open relays), which the engine implements privately; it reads time only from that
 * clock.
 *
 * <p><b>Errors.</b> A client whose connection finds no backend (none admitted it within the
 * connect timeout, or every try failed) is closed and counted; a client that sends a malformed
 * PROXY header, the wrong version, or none within the listener's {@code proxy_protocol_timeout}
 * (default 5 s) is closed and counted. Accept
 * failures (such as running out of file descriptors) are logged at most once per 10 s and the
 * listener keeps listening.
 *
 * <p><b>Thread-safety.</b> The engine's control methods are serialised; counters are thread-safe;
 * each relay is confined to its event loop.
 */
@NullMarked
package dev.belfry.proxy.l4;

import org.jspecify.annotations.NullMarked;
