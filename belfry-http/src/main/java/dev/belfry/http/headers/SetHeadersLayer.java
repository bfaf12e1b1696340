package dev.belfry.http.headers;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Wraps a service in {@link SetHeaders}. Build one with {@link #builder()}; there are no defaults
 * (a layer with no operations passes everything through).
 */
public final class SetHeadersLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final List<RequestOp> requestOps;
    private final List<ResponseOp> responseOps;

    private SetHeadersLayer(List<RequestOp> requestOps, List<ResponseOp> responseOps) {
        this.requestOps = requestOps;
        this.responseOps = responseOps;
    }

    /** A builder with no operations. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new SetHeaders(Checks.notNull(inner, "inner"), requestOps, responseOps);
    }

    /** How a value is written where the header may already be. */
    enum Mode {
        SET,
        APPEND,
        IF_ABSENT
    }

    interface RequestOp {
        void apply(HttpRequest original, HttpRequest.Builder builder);
    }

    interface ResponseOp {
        void apply(HttpRequest request, HttpResponse original, HttpResponse.Builder builder);
    }

    /** Collects operations, kept in the order added. Not thread-safe. */
    public static final class Builder {
        private final List<RequestOp> requestOps = new ArrayList<>();
        private final List<ResponseOp> responseOps = new ArrayList<>();

        private Builder() {}

        /** Replaces any {@code name} fields of the request with {@code value}. */
        public Builder setRequest(String name, String value) {
            return request(name, constant(name, value), Mode.SET);
        }

        /** Adds a {@code name} field to the request after any there are. */
        public Builder appendRequest(String name, String value) {
            return request(name, constant(name, value), Mode.APPEND);
        }

        /** Sets {@code name} on the request only if the request has none. */
        public Builder setRequestIfAbsent(String name, String value) {
            return request(name, constant(name, value), Mode.IF_ABSENT);
        }

        /** Replaces {@code name} with the value computed from the request; {@code null} leaves it. */
        public Builder setRequest(String name, Function<HttpRequest, @Nullable String> value) {
            return request(name, Checks.notNull(value, "value"), Mode.SET);
        }

        /** Replaces any {@code name} fields of the response with {@code value}. */
        public Builder setResponse(String name, String value) {
            Function<HttpRequest, @Nullable String> v = constant(name, value);
            return response(name, (request, response) -> v.apply(request), Mode.SET);
        }

        /** Adds a {@code name} field to the response after any there are. */
        public Builder appendResponse(String name, String value) {
            Function<HttpRequest, @Nullable String> v = constant(name, value);
            return response(name, (request, response) -> v.apply(request), Mode.APPEND);
        }

        /** Sets {@code name} on the response only if the response has none. */
        public Builder setResponseIfAbsent(String name, String value) {
            Function<HttpRequest, @Nullable String> v = constant(name, value);
            return response(name, (request, response) -> v.apply(request), Mode.IF_ABSENT);
        }

        /** Replaces {@code name} with the value computed from the response; {@code null} leaves it. */
        public Builder setResponse(String name, Function<HttpResponse, @Nullable String> value) {
            Checks.notNull(value, "value");
            return response(name, (request, response) -> value.apply(response), Mode.SET);
        }

        /**
         * Copies every {@code name} field of the request to the response, unless the response has
         * its own (tower-http's {@code PropagateHeader}).
         */
        public Builder propagate(String name) {
            String checked = checkName(name);
            responseOps.add((request, original, builder) -> {
                if (original.headers().contains(checked)) {
                    return;
                }
                for (String value : request.headers().getAll(checked)) {
                    builder.header(checked, value);
                }
            });
            return this;
        }

        public SetHeadersLayer build() {
            return new SetHeadersLayer(List.copyOf(requestOps), List.copyOf(responseOps));
        }

        private Builder request(String name, Function<HttpRequest, @Nullable String> value, Mode mode) {
            String checked = checkName(name);
            requestOps.add((original, builder) -> {
                if (mode == Mode.IF_ABSENT && original.headers().contains(checked)) {
                    return;
                }
                String v = value.apply(original);
                if (v == null) {
                    return;
                }
                if (mode == Mode.APPEND) {
                    builder.header(checked, v);
                } else {
                    builder.setHeader(checked, v);
                }
            });
            return this;
        }

        private Builder response(String name, ResponseValue value, Mode mode) {
            String checked = checkName(name);
            responseOps.add((request, original, builder) -> {
                if (mode == Mode.IF_ABSENT && original.headers().contains(checked)) {
                    return;
                }
                String v = value.apply(request, original);
                if (v == null) {
                    return;
                }
                if (mode == Mode.APPEND) {
                    builder.header(checked, v);
                } else {
                    builder.setHeader(checked, v);
                }
            });
            return this;
        }

        private static Function<HttpRequest, @Nullable String> constant(String name, String value) {
            Headers.of(checkName(name), Checks.notNull(value, "value")); // rejects CR, LF, NUL now
            return request -> value;
        }

        private static String checkName(String name) {
            Checks.notNull(name, "name");
            Headers.of(name, ""); // rejects a name that is not a token, naming it
            return name.toLowerCase(java.util.Locale.ROOT);
        }
    }

    @FunctionalInterface
    private interface ResponseValue {
        @Nullable
        String apply(HttpRequest request, HttpResponse response);
    }
}
