/**
 * Active health checks over Netty, for the core's {@link dev.belfry.health.HealthMonitor}: {@link
 * dev.belfry.netty.check.HttpCheck}, an HTTP/1.1 {@code GET} that passes on an expected status.
 *
 * <pre>{@code
 * HealthCheck check = HttpCheck.builder(address, group, transport).path("/healthz").build();
 * HealthChecked<Req, Res> checked = monitor.monitor(address, service, check);
 * }</pre>
 *
 * <p>A check opens a connection per probe on the given event loops, sends {@code GET path
 * HTTP/1.1} with {@code Host}, {@code User-Agent: belfry-health-check} and {@code Connection:
 * close} (built and parsed by Netty's {@code HttpClientCodec}), reads the status line and headers,
 * and closes. It fails with a {@link java.net.ConnectException} naming the endpoint when the connect
 * fails, {@link dev.belfry.netty.check.UnexpectedStatusException} on another status, and {@link
 * dev.belfry.netty.check.CheckFailedException} when the connection closes first or the answer is
 * not HTTP. The monitor bounds each probe with its own timeout and cancels it, which closes the
 * connection.
 */
@NullMarked
package dev.belfry.netty.check;

import org.jspecify.annotations.NullMarked;
