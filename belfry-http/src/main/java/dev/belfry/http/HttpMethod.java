package dev.belfry.http;

import dev.belfry.Checks;
import java.util.Locale;

/**
 * An HTTP request method: one of the standard constants, or any other token.
 *
 * <p>Methods are case-sensitive (RFC 9110 section 9.1); {@link #of} returns the shared constant for
 * a standard name, so constants may be compared with {@code ==} as well as {@link #equals}.
 *
 * @param name the method token, such as {@code GET}
 */
public record HttpMethod(String name) {
    public static final HttpMethod GET = new HttpMethod("GET");
    public static final HttpMethod HEAD = new HttpMethod("HEAD");
    public static final HttpMethod POST = new HttpMethod("POST");
    public static final HttpMethod PUT = new HttpMethod("PUT");
    public static final HttpMethod DELETE = new HttpMethod("DELETE");
    public static final HttpMethod PATCH = new HttpMethod("PATCH");
    public static final HttpMethod OPTIONS = new HttpMethod("OPTIONS");
    public static final HttpMethod CONNECT = new HttpMethod("CONNECT");
    public static final HttpMethod TRACE = new HttpMethod("TRACE");

    /** Checks that {@code name} is a non-empty token. */
    public HttpMethod {
        Checks.notNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("method must not be empty");
        }
        for (int i = 0; i < name.length(); i++) {
            if (!Headers.isTokenChar(name.charAt(i))) {
                throw new IllegalArgumentException("method must be a token, was '" + name + "'");
            }
        }
    }

    /** The method named {@code name}: a shared constant for standard methods. */
    public static HttpMethod of(String name) {
        return switch (name) {
            case "GET" -> GET;
            case "HEAD" -> HEAD;
            case "POST" -> POST;
            case "PUT" -> PUT;
            case "DELETE" -> DELETE;
            case "PATCH" -> PATCH;
            case "OPTIONS" -> OPTIONS;
            case "CONNECT" -> CONNECT;
            case "TRACE" -> TRACE;
            default -> new HttpMethod(name);
        };
    }

    /** Whether RFC 9110 defines the method as idempotent (safe to repeat). */
    public boolean idempotent() {
        return this.equals(GET)
                || this.equals(HEAD)
                || this.equals(PUT)
                || this.equals(DELETE)
                || this.equals(OPTIONS)
                || this.equals(TRACE);
    }

    @Override
    public String toString() {
        return name;
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
