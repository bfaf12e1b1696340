package io.netty.channel.epoll;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.belfry.netty.transport.Transport;
import dev.belfry.test.NoNettyLeaks;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.unix.Socket;
import io.netty.util.ReferenceCountUtil;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoNettyLeaks.class)
@Timeout(value = 30, unit = SECONDS)
class RelayEpollSocketChannelTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private EventLoopGroup group;

    @BeforeAll
    static void epollOnly() {
        assumeTrue(Transport.EPOLL.isAvailable(), "the epoll transport is not available here");
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (group != null) {
            assertThat(group.shutdownGracefully(0, 1, SECONDS).await(10, SECONDS))
                    .isTrue();
        }
    }

    private EventLoopGroup group() {
        if (group == null) {
            group = Transport.EPOLL.newEventLoopGroup(1, "relay-epoll-test");
        }
        return group;
    }

    @Test
    void anAcceptedSocketHasTheClientsAddressAndTheListenersAndItsParent() throws Exception {
        CompletableFuture<Channel> accepted = new CompletableFuture<>();
        Channel server = listen(new InetSocketAddress(LOOPBACK, 0), accepted);
        try (java.net.Socket client =
                new java.net.Socket(LOOPBACK, ((InetSocketAddress) server.localAddress()).getPort())) {
            Channel child = accepted.get(5, SECONDS);
            assertThat(child).isInstanceOf(RelayEpollSocketChannel.class);
            assertThat(child.remoteAddress()).isEqualTo(client.getLocalSocketAddress());
            assertThat(child.localAddress()).isEqualTo(client.getRemoteSocketAddress());
            assertThat(child.localAddress()).isEqualTo(server.localAddress());
            assertThat(child.parent()).isSameAs(server);
            child.close().await(5, SECONDS);
        } finally {
            server.close().await(5, SECONDS);
        }
    }

    @Test
    void anAcceptedSocketOfAWildcardListenerHasTheAddressItWasReachedAt() throws Exception {
        CompletableFuture<Channel> accepted = new CompletableFuture<>();
        Channel server = listen(new InetSocketAddress(InetAddress.getByAddress(new byte[4]), 0), accepted);
        try (java.net.Socket client =
                new java.net.Socket(LOOPBACK, ((InetSocketAddress) server.localAddress()).getPort())) {
            Channel child = accepted.get(5, SECONDS);
            assertThat(server.localAddress()).isNotEqualTo(client.getRemoteSocketAddress()); // 0.0.0.0
            assertThat(child.localAddress()).isEqualTo(client.getRemoteSocketAddress());
            assertThat(child.remoteAddress()).isEqualTo(client.getLocalSocketAddress());
            child.close().await(5, SECONDS);
        } finally {
            server.close().await(5, SECONDS);
        }
    }

    @Test
    void aConnectedSocketHasTheTargetAsRemoteAndItsOwnLocalAddress() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, LOOPBACK)) {
            InetSocketAddress target = (InetSocketAddress) server.getLocalSocketAddress();
            Channel channel = connect(RelayEpollSocketChannel.connectTarget(target));
            try (java.net.Socket peer = server.accept()) {
                assertThat(channel.remoteAddress()).isEqualTo(target);
                assertThat(channel.localAddress()).isEqualTo(peer.getRemoteSocketAddress());
                assertThat(channel.isActive()).isTrue();
            } finally {
                channel.close().await(5, SECONDS);
            }
        }
    }

    @Test
    void aRefusedConnectFailsNamingTheAddress() throws Exception {
        InetSocketAddress closed;
        try (ServerSocket server = new ServerSocket(0, 1, LOOPBACK)) {
            closed = (InetSocketAddress) server.getLocalSocketAddress();
        }
        ChannelFuture connect = new Bootstrap()
                .group(group())
                .channelFactory(() -> new RelayEpollSocketChannel(SocketProtocolFamily.INET))
                .handler(new ChannelInboundHandlerAdapter())
                .connect(RelayEpollSocketChannel.connectTarget(closed));
        assertThat(connect.await(5, SECONDS)).isTrue();
        assertThat(connect.cause())
                .isInstanceOf(ConnectException.class)
                .hasMessageContaining(String.valueOf(closed.getPort()));
        // As with Netty's channels, the caller closes a channel whose connect failed.
        assertThat(connect.channel().isActive()).isFalse();
        assertThat(connect.channel().remoteAddress()).isEqualTo(closed);
        assertThat(connect.channel().close().await(5, SECONDS)).isTrue();
        assertThat(connect.channel().isOpen()).isFalse();
    }

    @Test
    void aPeersFinEndsInputOnceWithoutShuttingTheSocketAndTheOutputStillWorks() throws Exception {
        AtomicInteger inputShutdownEvents = new AtomicInteger();
        AtomicInteger readCompleteEvents = new AtomicInteger();
        StringBuilder received = new StringBuilder();
        CompletableFuture<Void> sawFin = new CompletableFuture<>();
        try (ServerSocket server = new ServerSocket(0, 1, LOOPBACK)) {
            RelayEpollSocketChannel channel = (RelayEpollSocketChannel) connect(
                    RelayEpollSocketChannel.connectTarget((InetSocketAddress) server.getLocalSocketAddress()),
                    new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            received.append(((io.netty.buffer.ByteBuf) msg).toString(StandardCharsets.US_ASCII));
                            ReferenceCountUtil.release(msg);
                        }

                        @Override
                        public void channelReadComplete(ChannelHandlerContext ctx) {
                            if (!((RelayEpollSocketChannel) ctx.channel()).isInputShutdown()) {
                                ctx.read(); // as the relay does: one batch at a time, up to the FIN
                            }
                        }

                        @Override
                        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                            if (event instanceof ChannelInputShutdownEvent) {
                                inputShutdownEvents.incrementAndGet();
                                sawFin.complete(null);
                            } else if (event instanceof ChannelInputShutdownReadComplete) {
                                readCompleteEvents.incrementAndGet();
                            }
                        }
                    });
            try (java.net.Socket peer = server.accept()) {
                peer.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
                peer.shutdownOutput();
                channel.read();
                sawFin.get(5, SECONDS);
                assertThat(onLoop(channel, received::toString)).isEqualTo("bye");
                assertThat(channel.isInputShutdown()).isTrue();
                // Recorded, not done: no shutdown(SHUT_RD) was made on the socket.
                assertThat(((Socket) channel.fd()).isInputShutdown()).isFalse();
                assertThat(channel.isOutputShutdown()).isFalse();

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
                assertThat(readCompleteEvents.get()).isEqualTo(1);
            } finally {
                channel.close().await(5, SECONDS);
            }
        }
    }

    @Test
    void aCloseWithSoLingerZeroResetsThePeerAndALingeringCloseIsRefused() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, LOOPBACK)) {
            Channel channel =
                    connect(RelayEpollSocketChannel.connectTarget((InetSocketAddress) server.getLocalSocketAddress()));
            try (java.net.Socket peer = server.accept()) {
                assertThatThrownBy(() -> channel.config().setOption(ChannelOption.SO_LINGER, 5))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("SO_LINGER must be 0");
                assertThat(channel.config().setOption(ChannelOption.SO_LINGER, 0))
                        .isTrue();
                assertThat(channel.close().await(5, SECONDS)).isTrue();
                assertThat(channel.isOpen()).isFalse();
                assertThatThrownBy(() -> peer.getInputStream().read())
                        .isInstanceOf(SocketException.class)
                        .hasMessageContaining("reset");
            }
        }
    }

    @Test
    void socketOptionsReachTheSocketAndReadBackAsSet() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, LOOPBACK)) {
            Channel channel =
                    connect(RelayEpollSocketChannel.connectTarget((InetSocketAddress) server.getLocalSocketAddress()));
            try (java.net.Socket peer = server.accept()) {
                RelayEpollSocketChannelConfig config = (RelayEpollSocketChannelConfig) channel.config();
                assertThat(config.getOption(ChannelOption.TCP_NODELAY))
                        .as("on by default")
                        .isTrue();
                assertThat(config.getOption(ChannelOption.SO_KEEPALIVE)).isFalse();
                assertThat(config.setOption(ChannelOption.SO_KEEPALIVE, true)).isTrue();
                assertThat(config.setOption(ChannelOption.TCP_NODELAY, false)).isTrue();
                assertThat(config.setOption(ChannelOption.SO_RCVBUF, 65_536)).isTrue();
                assertThat(config.setOption(ChannelOption.ALLOW_HALF_CLOSURE, true))
                        .isTrue();
                assertThat(config.setOption(ChannelOption.IP_TOS, 0x10)).isTrue();
                // Read back from the kernel, not from fields of the config.
                assertThat(config.getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
                assertThat(config.getOption(ChannelOption.TCP_NODELAY)).isFalse();
                assertThat(config.getOption(ChannelOption.SO_RCVBUF))
                        .as("Linux doubles the size asked for")
                        .isGreaterThanOrEqualTo(65_536);
                assertThat(config.getOption(ChannelOption.ALLOW_HALF_CLOSURE)).isTrue();
                assertThat(config.getOption(ChannelOption.IP_TOS)).isEqualTo(0x10);
                assertThat(config.getOptions())
                        .containsKeys(ChannelOption.TCP_NODELAY, ChannelOption.SO_LINGER, ChannelOption.AUTO_READ);
                assertThat(config.setOption(ChannelOption.AUTO_READ, false)).isTrue();
                assertThat(config.isAutoRead()).isFalse();
                assertThat(channel.close().await(5, SECONDS)).isTrue();
            }
        }
    }

    @Test
    void aClosedSocketCanBeReplacedOnTheSameEventLoop() throws Exception {
        // The descriptor is closed before Netty deregisters it; the next socket (often given the
        // same descriptor number) must still register and relay on the same event loop.
        try (ServerSocket server = new ServerSocket(0, 4, LOOPBACK)) {
            InetSocketAddress target = (InetSocketAddress) server.getLocalSocketAddress();
            for (int i = 0; i < 3; i++) {
                Channel channel = connect(RelayEpollSocketChannel.connectTarget(target));
                try (java.net.Socket peer = server.accept()) {
                    channel.writeAndFlush(Unpooled.copiedBuffer("n" + i, StandardCharsets.US_ASCII))
                            .await(5, SECONDS);
                    byte[] bytes = peer.getInputStream().readNBytes(2);
                    assertThat(new String(bytes, StandardCharsets.US_ASCII)).isEqualTo("n" + i);
                    assertThat(channel.close().await(5, SECONDS)).isTrue();
                    assertThat(peer.getInputStream().read()).isEqualTo(-1);
                }
            }
        }
    }

    private Channel listen(InetSocketAddress address, CompletableFuture<Channel> accepted) {
        ChannelFuture bind = new ServerBootstrap()
                .group(group())
                .channelFactory(() -> new RelayEpollServerSocketChannel(SocketProtocolFamily.INET))
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        accepted.complete(channel);
                    }
                })
                .bind(address)
                .syncUninterruptibly();
        return bind.channel();
    }

    private Channel connect(java.net.SocketAddress target) {
        return connect(target, new ChannelInboundHandlerAdapter());
    }

    private Channel connect(java.net.SocketAddress target, ChannelInboundHandlerAdapter handler) {
        return new Bootstrap()
                .group(group())
                .channelFactory(() -> new RelayEpollSocketChannel(SocketProtocolFamily.INET))
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(handler)
                .connect(target)
                .syncUninterruptibly()
                .channel();
    }

    private static <T> T onLoop(Channel channel, Callable<T> action) throws Exception {
        return channel.eventLoop().submit(action).get(5, SECONDS);
    }
}
