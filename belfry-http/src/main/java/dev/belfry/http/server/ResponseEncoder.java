package dev.belfry.http.server;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * Netty's response encoder, told by the connection when a response has no body on the wire (the
 * answer to a HEAD), so it writes no chunk terminator even if the head announces chunking.
 * Event-loop confined.
 */
final class ResponseEncoder extends HttpResponseEncoder {
    private boolean nextHasNoBody;

    void nextResponseHasNoBody(boolean value) {
        nextHasNoBody = value;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
        return nextHasNoBody || super.isContentAlwaysEmpty(msg);
    }
}
