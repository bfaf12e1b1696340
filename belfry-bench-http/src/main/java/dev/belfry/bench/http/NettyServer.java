package dev.belfry.bench.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.belfry.netty.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * The floor: a hand-written Netty handler as in Netty's own hello-world examples, with no routing,
 * services or streaming bodies. HTTP/1.1 through {@code HttpServerCodec} (responses flushed once
 * per read batch); h2c by prior knowledge or Upgrade through {@code Http2FrameCodec} with one handler
 * on the connection (no child channel per stream).
 */
final class NettyServer {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final AsciiString TEXT_TYPE = AsciiString.cached("text/plain; charset=utf-8");
    private static final AsciiString JSON_TYPE = AsciiString.cached("application/json");

    private NettyServer() {}

    static AutoCloseable start(int port) throws InterruptedException {
        Transport transport = Transport.select();
        EventLoopGroup group = transport.newEventLoopGroup(1, "netty-http");
        Channel server = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelType())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        var codec = new HttpServerCodec();
                        var upgrade = new HttpServerUpgradeHandler(
                                codec,
                                protocol ->
                                        AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                                                ? new Http2ServerUpgradeCodec(Http2FrameCodecBuilder.forServer()
                                                        .build())
                                                : null);
                        // The responder answers both: HTTP/1.1 messages, or HTTP/2 frames once
                        // the frame codec has taken the cleartext handler's place.
                        ch.pipeline()
                                .addLast(new CleartextHttp2ServerUpgradeHandler(
                                        codec,
                                        upgrade,
                                        Http2FrameCodecBuilder.forServer().build()))
                                .addLast(new Responder());
                    }
                })
                .bind("127.0.0.1", port)
                .sync()
                .channel();
        return () -> {
            server.close().sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        };
    }

    /** The body for {@code path} (a new buffer), or null for 404. */
    private static ByteBuf body(String path) {
        return switch (path) {
            case "/text" -> Unpooled.wrappedBuffer(Hello.TEXT_BYTES);
            case "/json" -> {
                try {
                    yield Unpooled.wrappedBuffer(MAPPER.writeValueAsBytes(new Hello.Message(Hello.TEXT)));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            }
            default -> Unpooled.EMPTY_BUFFER;
        };
    }

    private static AsciiString type(String path) {
        return path.equals("/json") ? JSON_TYPE : TEXT_TYPE;
    }

    private static final class Responder extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest request) {
                    respond(ctx, request);
                } else if (msg instanceof Http2HeadersFrame frame && frame.isEndStream()) {
                    respond(ctx, frame.stream(), frame.headers());
                }
            } finally {
                ReferenceCountUtil.release(msg); // request bodies too: these GETs have none
            }
        }

        private static void respond(ChannelHandlerContext ctx, HttpRequest request) {
            String path = new QueryStringDecoder(request.uri()).path();
            ByteBuf content = body(path);
            FullHttpResponse response = new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1,
                    content.isReadable() ? HttpResponseStatus.OK : HttpResponseStatus.NOT_FOUND,
                    content);
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, type(path))
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
            if (HttpUtil.isKeepAlive(request)) {
                if (!request.protocolVersion().isKeepAliveDefault()) {
                    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                }
                ctx.write(response);
            } else {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.write(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        private static void respond(ChannelHandlerContext ctx, Http2FrameStream stream, Http2Headers request) {
            String path = new QueryStringDecoder(String.valueOf(request.path())).path();
            ByteBuf content = body(path);
            Http2Headers headers = new DefaultHttp2Headers()
                    .status(
                            content.isReadable()
                                    ? HttpResponseStatus.OK.codeAsText()
                                    : HttpResponseStatus.NOT_FOUND.codeAsText())
                    .set(HttpHeaderNames.CONTENT_TYPE, type(path))
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
            ctx.write(new DefaultHttp2HeadersFrame(headers).stream(stream));
            ctx.write(new DefaultHttp2DataFrame(content, true).stream(stream));
        }

        // One flush per batch of reads: the responses of pipelined requests or streams go out in
        // one write.
        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
