/**
 * Reconnect: a service that (re)creates its inner service from a {@link
 * dev.belfry.reconnect.ServiceFactory}, backing off between failed attempts.
 *
 * <pre>
 *   idle ──first use──▶ connecting ──ok──▶ connected ──inner closed──▶ idle
 *                         ▲    │ failed
 *                         │    ▼
 *                         └── backing off until now + backoff.delay(consecutive failures)
 *                             (next use after the deadline, or one timer if calls wait)
 * </pre>
 *
 * <p>Built with {@link dev.belfry.reconnect.Reconnect#builder}{@code
 * (factory).backoff(..).clock(..).policy(..).build()}: a reconnect wraps a factory, not a service,
 * so it is not a layer. It connects lazily on first use; {@link
 * dev.belfry.reconnect.Reconnect#connectNow} connects ahead of time. While there is no connection
 * a call waits ({@link dev.belfry.reconnect.Reconnect.Policy#WAIT}) or fails at once ({@link
 * dev.belfry.reconnect.Reconnect.Policy#FAIL_FAST}). A retry timer exists only while some call (or
 * {@code whenReady}, or {@code connectNow}) waits for the next attempt; otherwise the next attempt
 * starts lazily on the first use after the deadline.
 *
 * <p><b>Layer order.</b> Layers put on the factory's services (a concurrency limit per connection,
 * a timeout per call) are rebuilt with each connection; layers put around the {@code Reconnect}
 * outlive connections. A timeout outside it bounds the connect wait too. A retry outside it may
 * repeat {@code ConnectFailedException} and {@code NotConnectedException}: neither request was
 * sent. Within a balancer, each endpoint is usually one {@code Reconnect}.
 *
 * <p><b>Errors.</b> {@link dev.belfry.reconnect.ConnectFailedException} for calls that waited for a
 * failed attempt (and, under {@code FAIL_FAST}, calls made during the backoff); its cause is the
 * factory's error, never swallowed. {@link dev.belfry.reconnect.NotConnectedException} under
 * {@code FAIL_FAST} while connecting. {@link dev.belfry.ServiceClosedException} after {@code
 * close()}. All three are retry-safe. Failures of the inner service pass through unchanged; a
 * {@code ServiceClosedException} from it also makes the next use reconnect.
 *
 * <p><b>Thread-safety.</b> Thread-safe. No lock is held while the factory or the inner service is
 * called; the factory may run on a caller's thread or the clock's timer thread and must not block.
 */
@NullMarked
package dev.belfry.reconnect;

import org.jspecify.annotations.NullMarked;
