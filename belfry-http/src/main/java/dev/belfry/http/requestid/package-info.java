/**
 * Request ids: {@link dev.belfry.http.requestid.RequestIdLayer} gives every request an id in
 * {@code x-request-id} (keeping a usable one the client sent) and copies it to the response.
 *
 * <p>Layer order: put it outermost (first added), so every inner layer, the access log included,
 * and the handler see the id, and failure responses made by the server carry it too only if they
 * pass through it (responses the server makes for malformed requests do not). The id is also on
 * the request as the {@link dev.belfry.http.requestid.RequestId#ATTRIBUTE} attribute. It creates no
 * exceptions; inner failures pass through unchanged.
 */
@NullMarked
package dev.belfry.http.requestid;

import org.jspecify.annotations.NullMarked;
