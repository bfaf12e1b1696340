package dev.belfry.proxy.admin;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * A response before it becomes Netty objects. Keeping replies as plain bytes until the moment they are
 * written means a reply that is never written (its connection closed first) holds no buffer to leak.
 */
final class Reply {
    static final String TEXT = "text/plain; charset=utf-8";
    static final String JSON = "application/json; charset=utf-8";
    static final String HTML = "text/html; charset=utf-8";

    private final HttpResponseStatus status;
    private final String contentType;
    private final byte[] body;
    private final @Nullable String allow;
    private final boolean close;

    private Reply(HttpResponseStatus status, String contentType, byte[] body, @Nullable String allow, boolean close) {
        this.status = status;
        this.contentType = contentType;
        this.body = body;
        this.allow = allow;
        this.close = close;
    }

    static Reply of(HttpResponseStatus status, String contentType, byte[] body) {
        return new Reply(status, contentType, body, null, false);
    }

    static Reply of(HttpResponseStatus status, String contentType, String body) {
        return of(status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** A plain-text reply; a line end is added. */
    static Reply text(HttpResponseStatus status, String body) {
        return of(status, TEXT, body + "\n");
    }

    /** 405 naming the methods the resource does allow. */
    static Reply methodNotAllowed(String allow) {
        return new Reply(
                HttpResponseStatus.METHOD_NOT_ALLOWED,
                TEXT,
                ("method not allowed; allowed: " + allow + "\n").getBytes(StandardCharsets.UTF_8),
                allow,
                false);
    }

    /** This reply, after which the connection is closed. */
    Reply closing() {
        return new Reply(status, contentType, body, allow, true);
    }

    HttpResponseStatus status() {
        return status;
    }

    String contentType() {
        return contentType;
    }

    // The array is never changed after construction, and only the writer reads it.
    byte[] body() {
        return body;
    }

    @Nullable
    String allow() {
        return allow;
    }

    boolean close() {
        return close;
    }
}
