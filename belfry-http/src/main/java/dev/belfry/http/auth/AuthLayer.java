package dev.belfry.http.auth;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.RequestAttribute;
import java.security.Principal;
import java.util.Map;

/** Wraps a service in {@link Auth}: bearer tokens, basic credentials, or an authorizer of yours. */
public final class AuthLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    /** The authenticated principal, set on requests an authorizer allowed as someone. */
    public static final RequestAttribute<Principal> PRINCIPAL = RequestAttribute.of("principal", Principal.class);

    private final Authorizer authorizer;
    private final String challenge;

    private AuthLayer(Authorizer authorizer, String challenge) {
        this.authorizer = authorizer;
        this.challenge = challenge;
    }

    /**
     * Accepts {@code Authorization: Bearer <token>} for the given tokens, each mapped to the name of
     * its principal; the challenge is {@code Bearer}.
     */
    public static AuthLayer bearer(Map<String, String> tokens) {
        return new AuthLayer(Credentials.bearer(tokens), "Bearer");
    }

    /**
     * Accepts {@code Authorization: Basic} for the given users and passwords; the principal is the
     * user name and the challenge {@code Basic realm="<realm>", charset="UTF-8"}.
     */
    public static AuthLayer basic(String realm, Map<String, String> users) {
        Checks.notNull(realm, "realm");
        if (realm.indexOf('"') >= 0 || realm.indexOf('\\') >= 0) {
            throw new IllegalArgumentException("a realm cannot contain quotes or backslashes, was " + realm);
        }
        return new AuthLayer(Credentials.basic(users), "Basic realm=\"" + realm + "\", charset=\"UTF-8\"");
    }

    /**
     * Asks {@code authorizer} about each request; {@code challenge} is the {@code WWW-Authenticate}
     * value sent with a 401 (such as {@code Bearer realm="api"}).
     */
    public static AuthLayer of(Authorizer authorizer, String challenge) {
        Checks.notNull(authorizer, "authorizer");
        Headers.of("www-authenticate", Checks.notNull(challenge, "challenge")); // rejects CR, LF, NUL
        return new AuthLayer(authorizer, challenge);
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new Auth(Checks.notNull(inner, "inner"), authorizer, challenge);
    }
}
