/**
 * Authentication and authorization: {@link dev.belfry.http.auth.AuthLayer} asks an {@link
 * dev.belfry.http.auth.Authorizer} about each request, asynchronously, and either passes it on (with
 * the principal, if any, on the {@link dev.belfry.http.auth.AuthLayer#PRINCIPAL} attribute) or
 * answers it: {@code 401} with {@code WWW-Authenticate}, or the authorizer's own response (a 403).
 *
 * <pre>{@code
 * AuthLayer.bearer(Map.of(System.getenv("API_TOKEN"), "ci"))          // token -> principal name
 * AuthLayer.basic("admin", Map.of("alice", "correct horse"))          // realm, user -> password
 * AuthLayer.of(request -> lookUpSession(request)                      // your own check, async
 *         .thenApply(user -> user == null ? AuthDecision.unauthorized() : AuthDecision.allow(user)),
 *     "Bearer realm=\"api\"")
 * }</pre>
 *
 * <p>Bearer tokens and basic credentials are compared in constant time (SHA-256 digests of both
 * sides compared with {@link java.security.MessageDigest#isEqual}, every configured credential
 * checked), so the time taken says nothing about how much of a secret matched. Layer order: inside
 * CORS (preflights carry no credentials) and the access log; a per-route auth goes on the route with
 * {@code Router.Builder.route(method, pattern, layer, service)}. A refused request's body is
 * discarded. It creates no exceptions; the authorizer's failures pass through unchanged (the server
 * answers them with 500).
 */
@NullMarked
package dev.belfry.http.auth;

import org.jspecify.annotations.NullMarked;
