package dev.belfry.http;

import dev.belfry.Checks;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP response: a status code, headers and a {@link Body}. Immutable; build a changed copy with
 * {@link #toBuilder()} (the body moves to the copy unchanged).
 *
 * <p>Thread-safe (immutable), but a streamed body is single-use: see {@link Body}. {@link #close()}
 * discards the body, so a response nobody will read can be dropped with try-with-resources.
 */
public final class HttpResponse implements AutoCloseable {
    /** The content type {@link Builder#text} sets. */
    public static final String TEXT_UTF8 = "text/plain; charset=utf-8";

    /** The content type {@link Builder#json} sets. */
    public static final String JSON = "application/json";

    private final int status;
    private final Headers headers;
    private final Body body;

    private HttpResponse(Builder b) {
        this.status = b.status;
        this.headers = b.headers.build();
        this.body = b.body;
    }

    /** A builder for a response with {@code status}, no headers and an empty body. */
    public static Builder status(int status) {
        return new Builder(status);
    }

    /** A response with {@code status} and an empty body. */
    public static HttpResponse of(int status) {
        return status(status).build();
    }

    /** A 200 response with {@code text} as UTF-8 plain text. */
    public static HttpResponse text(String text) {
        return status(200).text(text).build();
    }

    /** A 200 response with {@code value} as JSON. */
    public static HttpResponse json(@Nullable Object value) {
        return status(200).json(value).build();
    }

    /** A builder holding this response's parts. */
    public Builder toBuilder() {
        Builder b = new Builder(status);
        b.headers.addAll(headers);
        b.body = body;
        return b;
    }

    public int status() {
        return status;
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

    /**
     * Discards the body: what layers that drop a response (a retried or hedged attempt's) call
     * through {@code Futures.discard}, so its buffers and connection are released. Idempotent.
     */
    @Override
    public void close() {
        body.discard();
    }

    @Override
    public String toString() {
        return "HttpResponse[" + status + "]";
    }

    /** Builds a response; not thread-safe. */
    public static final class Builder {
        private final int status;
        private final Headers.Builder headers = Headers.builder();
        private Body body = Body.empty();

        private Builder(int status) {
            if (status < 100 || status > 999) {
                throw new IllegalArgumentException("status must be three digits (100 to 999), was " + status);
            }
            this.status = status;
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

        /** Sets the body to {@code text} in UTF-8 and the content type to {@value #TEXT_UTF8}. */
        public Builder text(String text) {
            headers.set("content-type", TEXT_UTF8);
            return body(Body.of(text));
        }

        /** Sets the body to {@code value} as JSON and the content type to {@value #JSON}. */
        public Builder json(@Nullable Object value) {
            headers.set("content-type", JSON);
            return body(Body.json(value));
        }

        public HttpResponse build() {
            return new HttpResponse(this);
        }
    }
}
