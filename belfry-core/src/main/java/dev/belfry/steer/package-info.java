/**
 * Steer: routes each request to one of several services, chosen by a {@link
 * dev.belfry.steer.Picker}.
 *
 * <pre>
 *                       ┌──▶ services[0]
 *   request ──▶ pick ───┼──▶ services[1]   (only the chosen one's capacity matters)
 *                       └──▶ services[2]
 * </pre>
 *
 * <p>Use it to send different kinds of request to different backends (reads to replicas, writes to
 * the primary; one tenant per pool). Unlike Tower's {@code Steer}, which waits until every service
 * is ready before routing anything, a {@link dev.belfry.steer.Steer} waits only for the service the
 * request is routed to, so a busy service never blocks requests bound for another.
 *
 * <p><b>Layer order.</b> A steer combines services, so it is built with {@link
 * dev.belfry.steer.Steer#of} rather than as a layer; put per-backend layers (limits, timeouts,
 * breakers) on each service in the list, and layers meant for all traffic outside the steer. A
 * load shedder outside it sheds only when the chosen service refuses, since it uses {@code
 * tryCall}.
 *
 * <p><b>Errors.</b> {@link IllegalStateException} when the picker returns an index out of range;
 * the picker's own exception when it throws; {@link dev.belfry.ServiceClosedException} after the
 * steer is closed. Failures of the chosen service pass through unchanged.
 *
 * <p><b>Thread-safety.</b> Thread-safe if the picker is; the steer holds no lock.
 */
@NullMarked
package dev.belfry.steer;

import org.jspecify.annotations.NullMarked;
