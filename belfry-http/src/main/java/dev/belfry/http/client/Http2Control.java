package dev.belfry.http.client;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * The connection-level end of an h2c connection's pipeline: tells the pool when the server's
 * SETTINGS arrive (the connection becomes ready, with the server's stream limit as its capacity)
 * and when it sends GOAWAY (no new streams), and releases every frame it sees.
 */
final class Http2Control extends ChannelInboundHandlerAdapter {
    private final Connection connection;
    private int capacity = Pool.UNLIMITED_STREAMS;

    Http2Control(Connection connection) {
        this.connection = connection;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        // Open the connection window beyond HTTP/2's 64 KiB default, so one stream's unread bytes do
        // not stall the others; each stream's own window still follows its body's demand.
        Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
        if (codec != null) {
            var conn = codec.connection();
            int current = conn.local().flowController().windowSize(conn.connectionStream());
            conn.local()
                    .flowController()
                    .incrementWindowSize(conn.connectionStream(), Pool.CONNECTION_WINDOW - current);
        }
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2SettingsFrame settings) {
                Long max = settings.settings().maxConcurrentStreams();
                if (max != null) { // a later SETTINGS without the field keeps the limit
                    capacity = (int) Math.min(max, Integer.MAX_VALUE);
                }
                connection.pool.ready(connection, capacity);
            } else if (msg instanceof Http2GoAwayFrame) {
                connection.pool.goAway(connection);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // a connection error: Netty has sent GOAWAY; every stream fails with the close
    }
}
