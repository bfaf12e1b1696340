/**
 * Health endpoints for HTTP servers: {@code /health}, {@code /ready} and {@code /live} over a
 * {@link dev.belfry.health.registry.HealthRegistry}, mountable on a {@link
 * dev.belfry.http.router.Router}.
 *
 * <pre>
 *   HealthRegistry (dependency checks in the background, draining flag)
 *        │ report(), never a check on the request path
 *        ▼
 *   HealthRoutes ── GET /health  JSON: status, version, draining, dependencies[] ── 200 | 503
 *                ── GET /ready   200 when every required dependency is up and not draining, else 503
 *                ── GET /live    200 while the LivenessProbe passes (default: while answering), else 503
 * </pre>
 *
 * <p>Point Kubernetes' readiness probe at {@code /ready} and its liveness probe at {@code /live};
 * call {@code registry.drain()} when shutdown starts, so {@code /ready} turns 503 and traffic moves
 * away while requests in flight finish. {@code /health} is for people and dashboards.
 *
 * <p><b>Errors.</b> None of their own: a liveness probe that fails, throws or times out answers 503
 * with the reason in the body.
 */
@NullMarked
package dev.belfry.http.health;

import org.jspecify.annotations.NullMarked;
