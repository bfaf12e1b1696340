/**
 * The access log: {@link dev.belfry.http.accesslog.AccessLogLayer} writes one SLF4J line per
 * exchange, when the response body ends (or fails, or the client goes away), with the method,
 * path, route template, status, duration, bytes in and out (counted as the bodies stream) and the
 * request id; optionally the headers, with sensitive ones redacted.
 *
 * <pre>
 * method=GET path=/users/7 route=/users/{id} status=200 duration_ms=3.214 bytes_in=0 bytes_out=523 request_id=0f3c... outcome=complete
 * </pre>
 *
 * <p>The same fields are attached as SLF4J key-value pairs, so a structured encoder (Logback's
 * {@code JsonEncoder}) writes them as fields. {@code outcome} is {@code complete}, {@code
 * failed} (the handler's future failed; the status is the one the server answers), {@code
 * body_failed} (the response body failed after the head was sent), or {@code cancelled} (the
 * caller or the client gave up).
 *
 * <p>Layer order: the route template is known only inside the router, so add it with {@code
 * Router.Builder.layer(...)} (outside the router every request logs {@code route=-}, and a 404 or
 * 405 is answered before router layers run); put the request id outside it so the id is set. Bytes
 * are those crossing this layer: inside a compression layer they are uncompressed. It creates no
 * exceptions; inner failures pass through unchanged.
 */
@NullMarked
package dev.belfry.http.accesslog;

import org.jspecify.annotations.NullMarked;
