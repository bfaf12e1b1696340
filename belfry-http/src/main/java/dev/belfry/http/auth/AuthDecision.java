package dev.belfry.http.auth;

import dev.belfry.Checks;
import dev.belfry.http.HttpResponse;
import java.security.Principal;
import org.jspecify.annotations.Nullable;

/**
 * What an {@link Authorizer} decided about a request: allow it (optionally as a principal), refuse
 * it as unauthenticated (401 with the layer's challenge), or answer it with a response of its own.
 */
public final class AuthDecision {
    private static final AuthDecision ALLOW = new AuthDecision(null, null, false);
    private static final AuthDecision UNAUTHORIZED = new AuthDecision(null, null, true);

    private final @Nullable Principal principal;
    private final @Nullable HttpResponse response;
    private final boolean unauthorized;

    private AuthDecision(@Nullable Principal principal, @Nullable HttpResponse response, boolean unauthorized) {
        this.principal = principal;
        this.response = response;
        this.unauthorized = unauthorized;
    }

    /** Lets the request through with no principal attached. */
    public static AuthDecision allow() {
        return ALLOW;
    }

    /** Lets the request through with {@code principal} on {@link AuthLayer#PRINCIPAL}. */
    public static AuthDecision allow(Principal principal) {
        return new AuthDecision(Checks.notNull(principal, "principal"), null, false);
    }

    /** Lets the request through as a principal named {@code name}. */
    public static AuthDecision allow(String name) {
        Checks.notNull(name, "name");
        return allow(new NamedPrincipal(name));
    }

    /** Refuses the request: 401 with the layer's {@code WWW-Authenticate} challenge. */
    public static AuthDecision unauthorized() {
        return UNAUTHORIZED;
    }

    /** Answers the request with {@code response} (a 403 for an authenticated but forbidden call). */
    public static AuthDecision respond(HttpResponse response) {
        return new AuthDecision(null, Checks.notNull(response, "response"), false);
    }

    /** Whether the request may pass. */
    public boolean allowed() {
        return !unauthorized && response == null;
    }

    @Nullable
    Principal principal() {
        return principal;
    }

    @Nullable
    HttpResponse response() {
        return response;
    }

    @Override
    public String toString() {
        return allowed() ? "allow" + (principal == null ? "" : " " + principal.getName()) : "deny";
    }

    private record NamedPrincipal(String name) implements Principal {
        @Override
        public String getName() {
            return name;
        }
    }
}
