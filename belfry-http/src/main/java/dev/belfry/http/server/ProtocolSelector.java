package dev.belfry.http.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import java.util.List;

/**
 * Looks at a connection's first bytes: the HTTP/2 client preface means h2c by prior knowledge,
 * anything else is HTTP/1.1. Installs the matching pipeline and removes itself; the bytes it held
 * go on to the new handlers.
 */
final class ProtocolSelector extends ByteToMessageDecoder {
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

    private final HttpServer.Pipelines pipelines;

    ProtocolSelector(HttpServer.Pipelines pipelines) {
        this.pipelines = pipelines;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.read();
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int compared = Math.min(in.readableBytes(), PREFACE.readableBytes());
        boolean prefix = ByteBufUtil.equals(in, in.readerIndex(), PREFACE, PREFACE.readerIndex(), compared);
        if (!prefix) {
            pipelines.http1(ctx.pipeline());
            ctx.pipeline().remove(this);
        } else if (compared == PREFACE.readableBytes()) {
            pipelines.http2(ctx.pipeline());
            ctx.pipeline().remove(this);
        } else {
            ctx.read(); // part of the preface so far: need more to decide
        }
    }
}
