package dev.belfry.http.cors;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/** Wraps a service in {@link Cors}; see the package documentation for the settings. */
public final class CorsLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final @Nullable Predicate<String> origins; // null: any origin
    private final String methods;
    private final @Nullable String headers; // null: mirror the requested headers
    private final String exposed;
    private final long maxAgeSeconds;
    private final boolean credentials;

    private CorsLayer(Builder b) {
        this.origins = b.origins;
        this.methods = b.methods.stream().map(HttpMethod::name).collect(Collectors.joining(", "));
        this.headers = b.anyHeader ? null : String.join(", ", b.headers);
        this.exposed = String.join(", ", b.exposed);
        this.maxAgeSeconds = b.maxAge == null ? -1 : b.maxAge.toSeconds();
        this.credentials = b.credentials;
    }

    /** A builder allowing no origin until one is given. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new Cors(Checks.notNull(inner, "inner"), this);
    }

    boolean allows(String origin) {
        return origins == null || origins.test(origin);
    }

    String allowOriginValue(String origin) {
        return origins == null && !credentials ? "*" : origin;
    }

    String methodsValue() {
        return methods;
    }

    String headersValue(List<String> requested) {
        return headers != null ? headers : String.join(", ", requested);
    }

    String exposedValue() {
        return exposed;
    }

    long maxAgeSeconds() {
        return maxAgeSeconds;
    }

    boolean credentials() {
        return credentials;
    }

    /** Collects CORS settings; each may be made once. Not thread-safe. */
    public static final class Builder {
        private @Nullable Predicate<String> origins;
        private boolean originsSet;
        private Set<HttpMethod> methods =
                new LinkedHashSet<>(List.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST));
        private boolean methodsSet;
        private Set<String> headers = Set.of();
        private boolean anyHeader;
        private boolean headersSet;
        private Set<String> exposed = Set.of();
        private @Nullable Duration maxAge;
        private boolean credentials;

        private Builder() {}

        /** Allows these exact origins ({@code scheme://host[:port]}, as browsers send them). */
        public Builder allowOrigins(String... allowed) {
            Set<String> set = new LinkedHashSet<>();
            for (String origin : allowed) {
                Checks.notNull(origin, "origin");
                if (origin.equals("*") || origin.endsWith("/") || !origin.contains("://")) {
                    throw new IllegalArgumentException(
                            "an origin is scheme://host[:port] with no path, was '" + origin + "'");
                }
                set.add(origin);
            }
            if (set.isEmpty()) {
                throw new IllegalArgumentException("allowOrigins needs at least one origin");
            }
            Set<String> frozen = Set.copyOf(set);
            return origins(frozen::contains);
        }

        /** Allows the origins {@code predicate} accepts (for patterns such as subdomains). */
        public Builder allowOrigins(Predicate<String> predicate) {
            return origins(Checks.notNull(predicate, "predicate"));
        }

        /** Allows any origin ({@code Access-Control-Allow-Origin: *}). */
        public Builder allowAnyOrigin() {
            notTwice(originsSet, "allowed origins");
            originsSet = true;
            origins = null;
            return this;
        }

        /** The methods a preflight allows (default GET, HEAD, POST). */
        public Builder allowMethods(HttpMethod... allowed) {
            notTwice(methodsSet, "allowMethods");
            methodsSet = true;
            Set<HttpMethod> set = new LinkedHashSet<>();
            for (HttpMethod m : allowed) {
                set.add(Checks.notNull(m, "method"));
            }
            methods = set;
            return this;
        }

        /** The request headers a preflight allows (default none beyond the CORS-safelisted). */
        public Builder allowHeaders(String... allowed) {
            notTwice(headersSet, "allowHeaders");
            headersSet = true;
            headers = names(allowed);
            return this;
        }

        /** Allows whatever request headers a preflight asks for (mirrored back). */
        public Builder allowAnyHeader() {
            notTwice(headersSet, "allowHeaders");
            headersSet = true;
            anyHeader = true;
            return this;
        }

        /** Response headers scripts may read (default none beyond the safelisted). */
        public Builder exposeHeaders(String... names) {
            notTwice(!exposed.isEmpty(), "exposeHeaders");
            exposed = names(names);
            return this;
        }

        /** How long a browser may cache a preflight's answer (default: not sent). */
        public Builder maxAge(Duration value) {
            Checks.notSetTwice(maxAge, "maxAge");
            maxAge = Checks.nonNegative(value, "maxAge");
            return this;
        }

        /** Allows credentials (cookies, authorization); not with {@link #allowAnyOrigin()}. */
        public Builder allowCredentials() {
            notTwice(credentials, "allowCredentials");
            credentials = true;
            return this;
        }

        public CorsLayer build() {
            if (!originsSet) {
                throw new IllegalStateException("CORS needs allowOrigins(...) or allowAnyOrigin()");
            }
            if (credentials && origins == null) {
                throw new IllegalStateException("allowCredentials cannot be combined with allowAnyOrigin: browsers"
                        + " refuse 'Access-Control-Allow-Origin: *' with credentials; list the origins instead");
            }
            return new CorsLayer(this);
        }

        private Builder origins(Predicate<String> predicate) {
            notTwice(originsSet, "allowed origins");
            originsSet = true;
            origins = predicate;
            return this;
        }

        private static Set<String> names(String... names) {
            Set<String> set = new LinkedHashSet<>();
            for (String name : names) {
                Headers.of(Checks.notNull(name, "header name"), ""); // rejects a name that is not a token
                set.add(name.toLowerCase(Locale.ROOT));
            }
            return set;
        }

        private static void notTwice(boolean set, String name) {
            if (set) {
                throw new IllegalStateException(name + " was already set");
            }
        }
    }
}
