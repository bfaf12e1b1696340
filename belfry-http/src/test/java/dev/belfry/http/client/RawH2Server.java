package dev.belfry.http.client;

import dev.belfry.netty.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An h2c peer on loopback built on Netty's frame codec alone, so a test scripts each stream's fate
 * (answer, reset, GOAWAY) frame by frame. Every inbound frame is released after the script sees it.
 */
final class RawH2Server implements AutoCloseable {
    /** What the server does when a stream's request headers arrive. */
    interface Script {
        void onHeaders(ChannelHandlerContext ctx, Http2FrameCodec codec, Http2HeadersFrame headers, int connection);
    }

    private final EventLoopGroup group = Transport.NIO.newEventLoopGroup(1, "raw-h2");
    private final Channel listener;
    final AtomicInteger accepted = new AtomicInteger();
    /** Streams started, over every connection. */
    final AtomicInteger streams = new AtomicInteger();
    /** The error code of every RST_STREAM the clients sent, in arrival order. */
    final java.util.Queue<Long> resets = new java.util.concurrent.ConcurrentLinkedQueue<>();

    RawH2Server(Script script) {
        listener = new ServerBootstrap()
                .group(group)
                .channel(Transport.NIO.serverChannelType())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        int connection = accepted.incrementAndGet();
                        Http2FrameCodec codec =
                                Http2FrameCodecBuilder.forServer().build();
                        ch.pipeline().addLast(codec, new ChannelInboundHandlerAdapter() {
                            private final java.util.Set<Integer> known = new java.util.HashSet<>();

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                try {
                                    // A stream's first HEADERS frame starts it; a later one is its trailers.
                                    if (msg instanceof Http2HeadersFrame headers
                                            && known.add(headers.stream().id())) {
                                        streams.incrementAndGet();
                                        script.onHeaders(ctx, codec, headers, connection);
                                    } else if (msg instanceof Http2ResetFrame reset) {
                                        resets.add(reset.errorCode());
                                    }
                                } finally {
                                    ReferenceCountUtil.release(msg);
                                }
                            }
                        });
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .syncUninterruptibly()
                .channel();
    }

    int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Answers {@code stream} with 200 and {@code text}. */
    static void answer(ChannelHandlerContext ctx, Http2FrameStream stream, String text) {
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false).stream(stream));
        ctx.writeAndFlush(
                new DefaultHttp2DataFrame(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), true).stream(stream));
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
