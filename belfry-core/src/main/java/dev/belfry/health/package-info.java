/**
 * Health: whether each endpoint should get traffic, from active checks and from the outcomes of
 * real requests, fed to balancers as readiness.
 *
 * <pre>
 *   HealthCheck (tcp | http | grpc.health.v1) ──every interval ± jitter, timeout──┐ rise / fall
 *   request outcomes (consecutive failures, success rate) ──────────────────────┤ ejection, capped
 *                                                                                ▼
 *   HealthMonitor: HEALTHY / UNHEALTHY / EJECTED / PROBING per endpoint (HealthState snapshots)
 *                                                                                │
 *   HealthChecked endpoint service: BUSY and tryCall refused while out of rotation (unless panic)
 *                                                                                ▼
 *   Balancer routes around it without knowing why
 * </pre>
 *
 * <p>Use one {@link dev.belfry.health.HealthMonitor} per endpoint group and wrap each endpoint in
 * the balancer's {@code connect} function: {@code (key, address) -> monitor.monitor(key,
 * connect(address), check(address))}. Defaults: checks every 2 s (+ up to 10 % jitter) with a 1 s
 * timeout, rise 2, fall 3; ejection after 5 failures in a row for 30 s growing to 300 s, at most 10
 * % (at least one) ejected; panic below 50 % in rotation. A {@code listener} hears every status
 * change (outside the monitor's lock), for example to restart a balancer's slow start for an
 * endpoint that is back: {@code (key, from, to) -> { if (!from.inRotation() && to.inRotation())
 * balancer.restartSlowStart(key); }}.
 *
 * <p><b>Layer order.</b> The monitor sees the failures of the layers inside it: put it outside the
 * transport (and a per-endpoint timeout) so those count, inside per-endpoint limits so their local
 * rejections ({@code OverloadedException}) reach it and are ignored.
 *
 * <p><b>Errors.</b> None of its own on the request path; a check that times out fails with {@link
 * dev.belfry.timeout.ElapsedException}, recorded as the endpoint's last error.
 *
 * <p><b>Thread-safety.</b> Thread-safe; timers run on the injected clock and stop when an
 * endpoint's last service is closed.
 */
@NullMarked
package dev.belfry.health;

import org.jspecify.annotations.NullMarked;
