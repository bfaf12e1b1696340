package dev.belfry.http;

import dev.belfry.Checks;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP request: method, target, headers, a {@link Body} and attributes. Immutable; build a
 * changed copy with {@link #toBuilder()} (the body moves to the copy unchanged).
 *
 * <p>The target is kept as received (origin form {@code /path?query}, {@code *}, or absolute form);
 * {@link #path()} and {@link #query()} split it without decoding. Thread-safe (immutable), but the
 * body is a single-use stream: see {@link Body}.
 */
public final class HttpRequest {
    private final HttpMethod method;
    private final String target;
    private final Headers headers;
    private final Body body;
    private final Map<RequestAttribute<?>, Object> attributes;

    private HttpRequest(Builder b) {
        this.method = b.method;
        this.target = b.target;
        this.headers = b.headers.build();
        this.body = b.body;
        this.attributes = b.attributes();
    }

    /** A builder for a request of {@code method} to {@code target}, with no headers and no body. */
    public static Builder builder(HttpMethod method, String target) {
        return new Builder(method, target);
    }

    /** A {@code GET} of {@code target} with no headers. */
    public static HttpRequest get(String target) {
        return builder(HttpMethod.GET, target).build();
    }

    /** A {@code POST} of {@code body} to {@code target}. */
    public static HttpRequest post(String target, Body body) {
        return builder(HttpMethod.POST, target).body(body).build();
    }

    /** A builder holding this request's parts and attributes. */
    public Builder toBuilder() {
        Builder b = new Builder(method, target);
        b.headers.addAll(headers);
        b.body = body;
        attributes.forEach(b::putAttribute);
        return b;
    }

    /**
     * A copy with {@code newTarget} as its target; headers, body and attributes move to the copy
     * (what a layer that rewrites paths before routing needs).
     *
     * @throws IllegalArgumentException if the target is empty or holds spaces or control characters
     */
    public HttpRequest withTarget(String newTarget) {
        Builder b = new Builder(method, newTarget);
        b.headers.addAll(headers);
        b.body = body;
        attributes.forEach(b::putAttribute);
        return b.build();
    }

    public HttpMethod method() {
        return method;
    }

    /** The request target as received, such as {@code /users/7?fields=name}. */
    public String target() {
        return target;
    }

    /** The target up to {@code ?} (or {@code #}), not decoded. */
    public String path() {
        int end = queryStart();
        return end < 0 ? target : target.substring(0, end);
    }

    /** The raw query after {@code ?}, or {@code null} if there is none. */
    public @Nullable String query() {
        int start = queryStart();
        if (start < 0 || target.charAt(start) != '?') {
            return null;
        }
        int fragment = target.indexOf('#', start);
        return target.substring(start + 1, fragment < 0 ? target.length() : fragment);
    }

    /** The first value of query parameter {@code name}, percent-decoded, or {@code null}. */
    public @Nullable String queryParam(String name) {
        String query = query();
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            if (key.equals(name)) {
                return eq < 0 ? "" : decode(pair.substring(eq + 1));
            }
        }
        return null;
    }

    public Headers headers() {
        return headers;
    }

    /** The first value of header {@code name}, or {@code null}. */
    public @Nullable String header(String name) {
        return headers.get(name);
    }

    public Body body() {
        return body;
    }

    /** The value stored under {@code key}, or {@code null}. */
    public <T> @Nullable T attribute(RequestAttribute<T> key) {
        Object value = attributes.get(key);
        return value == null ? null : key.cast(value);
    }

    /** A copy with {@code key} set to {@code value}; the body moves to the copy. */
    public <T> HttpRequest withAttribute(RequestAttribute<T> key, T value) {
        return toBuilder().attribute(key, value).build();
    }

    @Override
    public String toString() {
        return method + " " + target;
    }

    private int queryStart() {
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c == '?' || c == '#') {
                return i;
            }
        }
        return -1;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    /** Builds a request; not thread-safe. */
    public static final class Builder {
        private final HttpMethod method;
        private final String target;
        private final Headers.Builder headers = Headers.builder();
        private Body body = Body.empty();
        // The first attribute is held in two fields (a server sets one on every request: the peer's
        // address), a map made only for a second.
        private @Nullable RequestAttribute<?> firstKey;
        private @Nullable Object firstValue;
        private @Nullable Map<RequestAttribute<?>, Object> more;

        private Builder(HttpMethod method, String target) {
            this.method = Checks.notNull(method, "method");
            Checks.notNull(target, "target");
            if (target.isEmpty()) {
                throw new IllegalArgumentException("target must not be empty");
            }
            for (int i = 0; i < target.length(); i++) {
                char c = target.charAt(i);
                if (c <= ' ' || c == 0x7f) {
                    throw new IllegalArgumentException(
                            "target must not contain spaces or control characters: " + target);
                }
            }
            this.target = target;
        }

        /** Adds a header field after any with the same name. */
        public Builder header(String name, String value) {
            headers.add(name, value);
            return this;
        }

        /** Replaces every field named {@code name} with this value. */
        public Builder setHeader(String name, String value) {
            headers.set(name, value);
            return this;
        }

        /** Removes every field named {@code name}. */
        public Builder removeHeader(String name) {
            headers.remove(name);
            return this;
        }

        /** Adds every field of {@code fields}. */
        public Builder headers(Headers fields) {
            headers.addAll(fields);
            return this;
        }

        public Builder body(Body value) {
            this.body = Checks.notNull(value, "body");
            return this;
        }

        public <T> Builder attribute(RequestAttribute<T> key, T value) {
            putAttribute(Checks.notNull(key, "key"), Checks.notNull(value, "value"));
            return this;
        }

        private void putAttribute(RequestAttribute<?> key, Object value) {
            Map<RequestAttribute<?>, Object> map = more;
            if (map != null) {
                map.put(key, value);
            } else if (firstKey == null || firstKey.equals(key)) {
                firstKey = key;
                firstValue = value;
            } else {
                map = new HashMap<>(4);
                map.put(firstKey, Checks.notNull(firstValue, "value"));
                map.put(key, value);
                more = map;
            }
        }

        private Map<RequestAttribute<?>, Object> attributes() {
            Map<RequestAttribute<?>, Object> map = more;
            if (map != null) {
                return Map.copyOf(map);
            }
            RequestAttribute<?> key = firstKey;
            return key == null ? Map.of() : Map.of(key, Checks.notNull(firstValue, "value"));
        }

        public HttpRequest build() {
            return new HttpRequest(this);
        }
    }
}
