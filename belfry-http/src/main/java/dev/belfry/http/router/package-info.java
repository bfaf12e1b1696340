/**
 * The router: dispatches requests by method and path pattern to services.
 *
 * <pre>
 *   request ──▶ Router ──match──▶ [router layers ▶ route layers ▶ route service]   (ROUTE attribute set)
 *                  ├── no path matches            ──▶ fallback (404)
 *                  └── path matches, method doesn't ──▶ 405 with Allow
 * </pre>
 *
 * <p>Patterns are literal segments, {@code {name}} parameters (one segment each) and a final
 * {@code *} wildcard (the rest of the path, possibly empty): {@code /api/v1/users/{id}}, {@code
 * /static/*}. When several patterns match, the more specific wins segment by segment (literal over
 * parameter over wildcard). A router's layers wrap each route's service, so they run after
 * matching and see the {@link dev.belfry.http.router.Router#ROUTE} attribute (the template, for
 * metrics labels and logs, and the parameters). {@link
 * dev.belfry.http.router.Router.Builder#nest} mounts another router under a prefix; its layers stay
 * inside the outer router's. {@link dev.belfry.http.router.JsonHandler} reads and writes JSON.
 */
@NullMarked
package dev.belfry.http.router;

import org.jspecify.annotations.NullMarked;
