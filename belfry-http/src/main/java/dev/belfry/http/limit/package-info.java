/**
 * A request body limit: {@link dev.belfry.http.limit.RequestBodyLimitLayer} answers {@code 413
 * Content Too Large} before the handler runs when a request declares a {@code Content-Length}
 * above the limit, and fails a streamed body that grows past it with {@link
 * dev.belfry.http.BodyTooLargeException} (which the server answers with 413, when the handler lets
 * it propagate).
 *
 * <p>Use it for a route or router that needs a smaller limit than the server's {@code
 * maxRequestBodyBytes}. Layer order: put it outside a decompression layer to limit the bytes on the
 * wire, inside it to limit the inflated bytes (the decompression layer has its own cap too). It
 * creates no exceptions of its own type; the handler's body fails with {@code
 * BodyTooLargeException}. Inner failures pass through unchanged.
 */
@NullMarked
package dev.belfry.http.limit;

import org.jspecify.annotations.NullMarked;
