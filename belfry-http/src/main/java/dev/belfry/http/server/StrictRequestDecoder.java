package dev.belfry.http.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * Netty's request decoder, plus the one ambiguity it lets through: obsolete line folding (a header
 * line starting with a space or tab, RFC 9112 section 5.2), which it joins silently into the
 * previous value. A request with a folded header is marked failed, so it gets 400.
 *
 * <p>Netty's decoder consumes header bytes line by line and returns after emitting a request head,
 * so the bytes one {@code decode} call consumes while a head is being read belong to that head
 * alone: scanning them for a line feed followed by whitespace finds every fold. It also tells the
 * server when a request's first bytes arrive, to start the header-read timer.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {
    /** What the decoder tells the connection. */
    interface Listener {
        /** The first bytes of a request head arrived. */
        void headStarted();
    }

    private final Listener listener;
    private boolean inHead = true;
    private boolean headStartReported;
    private boolean folded;
    private boolean lastConsumedWasLineFeed;

    StrictRequestDecoder(ServerLimits limits, Listener listener) {
        super(new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxRequestLineBytes())
                .setMaxHeaderSize(limits.maxHeaderBytes())
                .setAllowDuplicateContentLengths(false)
                .setStrictLineParsing(true)
                .setValidateHeaders(true));
        this.listener = listener;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        boolean scanning = inHead;
        int start = buffer.readerIndex();
        if (scanning && !headStartReported && buffer.isReadable()) {
            headStartReported = true;
            listener.headStarted();
        }
        int before = out.size();
        super.decode(ctx, buffer, out);
        int end = buffer.readerIndex();
        if (scanning && end > start) {
            if (lastConsumedWasLineFeed && isSpaceOrTab(buffer.getByte(start))) {
                folded = true;
            }
            // From line feed to line feed (a vectorised search), not byte by byte: a head has a
            // few dozen lines and a few hundred bytes.
            for (int i = buffer.indexOf(start, end - 1, (byte) '\n');
                    i >= 0 && !folded;
                    i = buffer.indexOf(i + 1, end - 1, (byte) '\n')) {
                folded = isSpaceOrTab(buffer.getByte(i + 1));
            }
            lastConsumedWasLineFeed = buffer.getByte(end - 1) == '\n';
        }
        for (int i = before; i < out.size(); i++) {
            Object message = out.get(i);
            if (message instanceof HttpRequest head) {
                if (folded && head.decoderResult().isSuccess()) {
                    head.setDecoderResult(DecoderResult.failure(
                            new IllegalArgumentException("obsolete line folding in a header field")));
                }
                inHead = false;
                folded = false;
                lastConsumedWasLineFeed = false;
                if (i + 1 < out.size()
                        && LastHttpContent.EMPTY_LAST_CONTENT.equals(out.get(i + 1))
                        && !(head instanceof LastHttpContent)
                        && !head.headers().contains(HttpHeaderNames.UPGRADE)) {
                    // A request without a body: Netty emits its head and an empty last content;
                    // one message carrying both goes through the pipeline once instead of twice.
                    // Not one asking for an upgrade: Netty's upgrade handler takes only the two.
                    message = whole(head);
                    out.set(i, message);
                    out.remove(i + 1);
                }
            }
            if (message instanceof LastHttpContent) {
                inHead = true;
                headStartReported = false;
            }
        }
    }

    private static FullHttpRequest whole(HttpRequest head) {
        var request = new DefaultFullHttpRequest(
                head.protocolVersion(),
                head.method(),
                head.uri(),
                Unpooled.EMPTY_BUFFER,
                head.headers(),
                EmptyHttpHeaders.INSTANCE);
        request.setDecoderResult(head.decoderResult());
        return request;
    }

    private static boolean isSpaceOrTab(byte b) {
        return b == ' ' || b == '\t';
    }
}
