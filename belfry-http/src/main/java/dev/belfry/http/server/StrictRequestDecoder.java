package dev.belfry.http.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
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
            for (int i = start; i + 1 < end; i++) {
                if (buffer.getByte(i) == '\n' && isSpaceOrTab(buffer.getByte(i + 1))) {
                    folded = true;
                    break;
                }
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
            }
            if (message instanceof LastHttpContent) {
                inHead = true;
                headStartReported = false;
            }
        }
    }

    private static boolean isSpaceOrTab(byte b) {
        return b == ' ' || b == '\t';
    }
}
