package dev.belfry.proxy.l4;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.netty.transport.Transport;
import dev.belfry.test.NoNettyLeaks;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.ReferenceCountUtil;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoNettyLeaks.class)
@Timeout(value = 30, unit = SECONDS)
class NioRelayChannelsTest {
    private final EventLoopGroup group = Transport.NIO.newEventLoopGroup(1, "relay-channels-test");

    @AfterEach
    void cleanUp() throws Exception {
        assertThat(group.shutdownGracefully(0, 1, SECONDS).await(10, SECONDS)).isTrue();
    }

    @Test
    void socketsTakeTheFamilyOfTheirAddress() throws Exception {
        assertThat(NioRelayChannels.family(
                        new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 80)))
                .isEqualTo(SocketProtocolFamily.INET);
        assertThat(NioRelayChannels.family(new InetSocketAddress(InetAddress.getByAddress(new byte[16]), 80)))
                .isEqualTo(SocketProtocolFamily.INET6);
        assertThat(NioRelayChannels.family(null)).isEqualTo(SocketProtocolFamily.INET6);
    }

    @Test
    void aPeersFinEndsInputOnceAndTheOutputStillWorksUntilItIsShutDown() throws Exception {
        AtomicInteger inputShutdownEvents = new AtomicInteger();
        CompletableFuture<Void> sawFin = new CompletableFuture<>();
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            NioRelayChannels.RelaySocket channel = new NioRelayChannels.RelaySocket(SocketProtocolFamily.INET);
            channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
            channel.config().setAutoRead(false);
            channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ReferenceCountUtil.release(msg);
                }

                @Override
                public void channelReadComplete(ChannelHandlerContext ctx) {
                    if (!((NioRelayChannels.RelaySocket) ctx.channel()).isInputShutdown()) {
                        ctx.read(); // as the relay does: one batch at a time, up to the FIN
                    }
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                    if (event instanceof ChannelInputShutdownEvent) {
                        inputShutdownEvents.incrementAndGet();
                        sawFin.complete(null);
                    }
                }
            });
            assertThat(group.next().register(channel).await(5, SECONDS)).isTrue();
            assertThat(channel.connect(server.getLocalSocketAddress()).await(5, SECONDS))
                    .isTrue();
            try (Socket peer = server.accept()) {
                peer.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
                peer.shutdownOutput();
                channel.read();
                sawFin.get(5, SECONDS);
                assertThat(channel.isInputShutdown()).isTrue();
                assertThat(channel.isOutputShutdown()).isFalse();

                // Asking for more after the FIN reads nothing and raises no second event.
                onLoop(channel, () -> {
                    channel.read();
                    return null;
                });

                // A write queued but not flushed: the fast path refuses, nothing is lost.
                assertThat(onLoop(channel, () -> {
                            channel.write(Unpooled.copiedBuffer("answer", StandardCharsets.US_ASCII));
                            return channel.shutdownOutputNow();
                        }))
                        .isFalse();
                assertThat(onLoop(channel, () -> {
                            channel.flush();
                            return channel.shutdownOutputNow();
                        }))
                        .isTrue();
                assertThat(channel.isOutputShutdown()).isTrue();
                assertThat(channel.isShutdown()).isTrue();

                InputStream in = peer.getInputStream();
                assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII))
                        .isEqualTo("answer");
                assertThat(inputShutdownEvents.get()).isEqualTo(1);
            } finally {
                channel.close().await(5, SECONDS);
            }
        }
    }

    private static <T> T onLoop(Channel channel, Callable<T> action) throws Exception {
        return channel.eventLoop().submit(action).get(5, SECONDS);
    }
}
