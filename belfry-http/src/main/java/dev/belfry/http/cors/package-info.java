/**
 * CORS: {@link dev.belfry.http.cors.CorsLayer} answers preflight requests ({@code OPTIONS} with
 * {@code Origin} and {@code Access-Control-Request-Method}) itself and adds the CORS response
 * headers to other requests from allowed origins.
 *
 * <pre>{@code
 * CorsLayer.builder()
 *         .allowOrigins("https://app.example.com")      // or .allowAnyOrigin()
 *         .allowMethods(HttpMethod.GET, HttpMethod.POST)  // default GET, HEAD, POST
 *         .allowHeaders("content-type", "authorization")  // default none; or .allowAnyHeader()
 *         .exposeHeaders("x-request-id")                  // default none
 *         .maxAge(Duration.ofMinutes(10))                 // default: not sent
 *         .allowCredentials()                             // default off
 *         .build();
 * }</pre>
 *
 * <p>A disallowed origin gets no CORS headers at all (so the browser refuses the response); every
 * response gets {@code Vary: origin} (preflights also vary on the request method and headers), so
 * caches keep one copy per origin. Credentials cannot be combined with any origin: the builder
 * refuses it. Layer order: outside authentication, because preflights carry no credentials. It
 * creates no exceptions; inner failures pass through unchanged.
 */
@NullMarked
package dev.belfry.http.cors;

import org.jspecify.annotations.NullMarked;
