package dev.belfry.http.router;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.RequestAttribute;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Dispatches each request to the service of the route its method and path match.
 *
 * <pre>{@code
 * Router api = Router.builder()
 *         .get("/users/{id}", request -> ...)          // Router.ROUTE holds "/users/{id}" and id
 *         .post("/users", JsonHandler.of(NewUser.class, (request, user) -> ...))
 *         .get("/static/*", files)
 *         .layer(timeoutLayer)                           // wraps every route, after matching
 *         .build();
 * Router app = Router.builder().nest("/api/v1", api).build();
 * }</pre>
 *
 * <p>A path no route matches goes to the fallback (404 unless set); a path that matches only with
 * other methods gets 405 with {@code Allow}. {@code HEAD} is served by the {@code GET} route when no
 * {@code HEAD} route exists (the server sends no body). The request's body is discarded on 404 and
 * 405. Immutable and thread-safe once built.
 */
public final class Router implements Service<HttpRequest, HttpResponse> {
    /** The route a request matched; set before the route's layers and service run. */
    public static final RequestAttribute<RouteMatch> ROUTE = RequestAttribute.of("route", RouteMatch.class);

    private final List<Route> routes;
    private final Service<HttpRequest, HttpResponse> fallback;

    private Router(List<Route> routes, Service<HttpRequest, HttpResponse> fallback) {
        this.routes = routes;
        this.fallback = fallback;
    }

    /** A builder with no routes. */
    public static Builder builder() {
        return new Builder();
    }

    /** The parameter {@code name} of the route {@code request} matched, or {@code null}. */
    public static @Nullable String param(HttpRequest request, String name) {
        RouteMatch match = request.attribute(ROUTE);
        return match == null ? null : match.param(name);
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        String path = request.path();
        String[] segments = path.startsWith("/") ? path.substring(1).split("/", -1) : new String[] {path};
        Route best = null;
        Map<String, String> bestParams = null;
        Set<String> allowed = null;
        HttpMethod method = request.method();
        for (Route route : routes) {
            Map<String, String> params = route.pattern.match(segments);
            if (params == null) {
                continue;
            }
            boolean methodMatches = route.method.equals(method)
                    || (method.equals(HttpMethod.HEAD) && route.method.equals(HttpMethod.GET) && !hasHead(route));
            if (!methodMatches) {
                if (allowed == null) {
                    allowed = new TreeSet<>();
                }
                allowed.add(route.method.name());
                if (route.method.equals(HttpMethod.GET)) {
                    allowed.add("HEAD");
                }
                continue;
            }
            if (best == null || route.pattern.compareSpecificity(best.pattern) > 0) {
                best = route;
                bestParams = params;
            }
        }
        if (best != null && bestParams != null) {
            HttpRequest matched = request.withAttribute(ROUTE, new RouteMatch(best.pattern.template, bestParams));
            return Futures.call(best.service, matched);
        }
        if (allowed != null) {
            request.body().discard();
            return CompletableFuture.completedFuture(HttpResponse.status(405)
                    .header("allow", String.join(", ", allowed))
                    .text("method " + method + " not allowed for " + path + "\n")
                    .build());
        }
        return Futures.call(fallback, request);
    }

    private boolean hasHead(Route get) {
        for (Route route : routes) {
            if (route.method.equals(HttpMethod.HEAD) && route.pattern.template.equals(get.pattern.template)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        for (Route route : routes) {
            route.service.close();
        }
        fallback.close();
    }

    private record Route(HttpMethod method, Pattern pattern, Service<HttpRequest, HttpResponse> service) {}

    private static final class NotFound implements Service<HttpRequest, HttpResponse> {
        @Override
        public CompletableFuture<HttpResponse> call(HttpRequest request) {
            request.body().discard();
            return CompletableFuture.completedFuture(HttpResponse.status(404)
                    .text("no route for " + request.path() + "\n")
                    .build());
        }
    }

    /** Collects routes; not thread-safe. */
    public static final class Builder {
        private final List<Route> routes = new ArrayList<>();
        private final List<Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse>> layers = new ArrayList<>();
        private @Nullable Service<HttpRequest, HttpResponse> fallback;

        private Builder() {}

        /** Routes {@code method} requests whose path matches {@code pattern} to {@code service}. */
        public Builder route(HttpMethod method, String pattern, Service<HttpRequest, HttpResponse> service) {
            Checks.notNull(method, "method");
            Checks.notNull(pattern, "pattern");
            Checks.notNull(service, "service");
            Pattern parsed = Pattern.parse(pattern);
            for (Route route : routes) {
                if (route.method.equals(method) && route.pattern.template.equals(parsed.template)) {
                    throw new IllegalStateException(method + " " + pattern + " was already routed");
                }
            }
            routes.add(new Route(method, parsed, service));
            return this;
        }

        /**
         * Routes like {@link #route(HttpMethod, String, Service)}, with {@code layer} around this
         * route's service only (inside the router's layers).
         */
        public Builder route(
                HttpMethod method,
                String pattern,
                Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> layer,
                Service<HttpRequest, HttpResponse> service) {
            Checks.notNull(layer, "layer");
            return route(method, pattern, layer.wrap(service));
        }

        public Builder get(String pattern, Service<HttpRequest, HttpResponse> service) {
            return route(HttpMethod.GET, pattern, service);
        }

        public Builder post(String pattern, Service<HttpRequest, HttpResponse> service) {
            return route(HttpMethod.POST, pattern, service);
        }

        public Builder put(String pattern, Service<HttpRequest, HttpResponse> service) {
            return route(HttpMethod.PUT, pattern, service);
        }

        public Builder patch(String pattern, Service<HttpRequest, HttpResponse> service) {
            return route(HttpMethod.PATCH, pattern, service);
        }

        public Builder delete(String pattern, Service<HttpRequest, HttpResponse> service) {
            return route(HttpMethod.DELETE, pattern, service);
        }

        /**
         * Mounts every route of {@code router} under {@code prefix} ({@code /api} + {@code /users}
         * is {@code /api/users}); the nested router's layers stay around its routes, inside this
         * router's layers. Its fallback is not used.
         */
        public Builder nest(String prefix, Router router) {
            Checks.notNull(prefix, "prefix");
            Checks.notNull(router, "router");
            if (!prefix.startsWith("/") || prefix.endsWith("/")) {
                throw new IllegalArgumentException(
                        "a prefix starts with '/' and does not end with it, was '" + prefix + "'");
            }
            for (Route route : router.routes) {
                Pattern prefixed = route.pattern.prefixed(prefix);
                route(route.method, prefixed.template, route.service);
            }
            return this;
        }

        /** Adds a layer around every route's service; the first added is outermost. */
        public Builder layer(Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> layer) {
            layers.add(Checks.notNull(layer, "layer"));
            return this;
        }

        /** What answers requests no route matches; a 404 unless set. */
        public Builder fallback(Service<HttpRequest, HttpResponse> service) {
            Checks.notSetTwice(fallback, "fallback");
            this.fallback = Checks.notNull(service, "fallback");
            return this;
        }

        public Router build() {
            List<Route> built = new ArrayList<>(routes.size());
            for (Route route : routes) {
                Service<HttpRequest, HttpResponse> service = route.service;
                for (int i = layers.size() - 1; i >= 0; i--) {
                    service = layers.get(i).wrap(service);
                }
                built.add(new Route(route.method, route.pattern, service));
            }
            return new Router(List.copyOf(built), fallback != null ? fallback : new NotFound());
        }
    }
}
