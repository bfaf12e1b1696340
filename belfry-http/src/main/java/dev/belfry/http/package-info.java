/**
 * HTTP messages for the service core: {@link dev.belfry.http.HttpRequest}, {@link
 * dev.belfry.http.HttpResponse}, {@link dev.belfry.http.Headers} and the streaming {@link
 * dev.belfry.http.Body}.
 *
 * <p>An HTTP handler is a {@code Service<HttpRequest, HttpResponse>}, so every core layer applies
 * to it as is. Heads are immutable values; a body is a single-use stream with demand, consumed once
 * through a {@link java.util.concurrent.Flow.Publisher}, the zero-copy buffer form, a collect
 * helper, or discarded. See {@code docs/http.md} for the ownership and release rules.
 */
@NullMarked
package dev.belfry.http;

import org.jspecify.annotations.NullMarked;
