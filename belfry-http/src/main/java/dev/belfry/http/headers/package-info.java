/**
 * Set and propagate headers: {@link dev.belfry.http.headers.SetHeadersLayer} sets, appends or sets
 * if absent header fields on requests (before the inner service sees them) and on responses (after
 * it answers), and copies request headers to the response ({@code propagate}).
 *
 * <pre>{@code
 * SetHeadersLayer.builder()
 *         .setRequest("x-forwarded-proto", "https")
 *         .appendResponse("cache-control", "no-store")
 *         .setResponseIfAbsent("content-type", "application/json")
 *         .setResponse("x-served-by", response -> hostName)
 *         .propagate("x-correlation-id")
 *         .build();
 * }</pre>
 *
 * <p>Operations run in the order they were added. Layer order: a response header set here is seen
 * by layers outside it, not inside. It creates no exceptions; inner failures pass through unchanged.
 */
@NullMarked
package dev.belfry.http.headers;

import org.jspecify.annotations.NullMarked;
