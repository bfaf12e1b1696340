package dev.belfry.http.router;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The route a request matched: its template as written ({@code /users/{id}}) and the values of its
 * parameters (the wildcard under {@code *}), percent-decoded.
 *
 * @param template the matched pattern, including any nesting prefix
 * @param params parameter values by name
 */
public record RouteMatch(String template, Map<String, String> params) {
    /** Copies the parameters. */
    public RouteMatch {
        params = Map.copyOf(params);
    }

    /** The value of parameter {@code name}, or {@code null}. */
    public @Nullable String param(String name) {
        return params.get(name);
    }
}
