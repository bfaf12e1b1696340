/**
 * Prometheus metrics: {@link dev.belfry.http.metrics.HttpMetricsLayer} records, on a {@code
 * PrometheusRegistry} you pass in (never the default registry):
 *
 * <ul>
 *   <li>{@code http_server_request_duration_seconds}, a histogram by {@code method}, {@code route}
 *       (the route template, {@code unmatched} when no route is known) and {@code status_class}
 *       ({@code 2xx} ... {@code 5xx}; {@code cancelled} when the caller gave up before a response),
 *       measured from {@code call} to the end of the response body;
 *   <li>{@code http_server_requests_in_flight}, a gauge of exchanges whose response body has not
 *       ended.
 * </ul>
 *
 * <pre>{@code
 * PrometheusRegistry registry = new PrometheusRegistry();
 * Router app = Router.builder()
 *         .layer(HttpMetricsLayer.create(registry))   // inside the router: labels by template
 *         .get("/users/{id}", getUser)
 *         .build();
 * // serve registry.scrape() with PrometheusTextFormatWriter on /metrics
 * }</pre>
 *
 * <p>Label values stay bounded: the route is the template, never the raw path; a method that is
 * not a standard one is {@code _OTHER}. A failed future counts with the status the server answers
 * for it. Layer order: as for the access log, add it with {@code Router.Builder.layer(...)} so the
 * route template is known (the layer wraps each route, and all share one histogram); outside the
 * router every request is {@code unmatched}. Creating two layers on one registry fails, as the
 * registry refuses a second metric of the same name. It creates no exceptions; inner failures pass
 * through unchanged.
 */
@NullMarked
package dev.belfry.http.metrics;

import org.jspecify.annotations.NullMarked;
