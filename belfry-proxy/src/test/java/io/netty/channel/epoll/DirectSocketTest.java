package io.netty.channel.epoll;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.belfry.netty.transport.Transport;
import dev.belfry.test.NoNettyLeaks;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketProtocolFamily;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoNettyLeaks.class)
@Timeout(value = 30, unit = SECONDS)
class DirectSocketTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final EventLoopGroup group =
            Transport.EPOLL.isAvailable() ? Transport.EPOLL.newEventLoopGroup(1, "direct-socket-test") : null;
    private final EventLoop loop = group == null ? null : group.next();

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

    @Test
    void aDirectListenerHandsOverSocketsThatHaveTheClientsAddressAndTcpNoDelay() throws Exception {
        BlockingQueue<DirectSocket> accepted = new LinkedBlockingQueue<>();
        Channel server = listen(accepted, true);
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        try (java.net.Socket client = new java.net.Socket(LOOPBACK, port)) {
            DirectSocket socket = accepted.poll(5, SECONDS);
            assertThat(socket).isNotNull();
            assertThat(socket.remoteAddress()).isEqualTo(client.getLocalSocketAddress());
            assertThat(socket.localAddress()).isEqualTo(client.getRemoteSocketAddress());
            // Taken over from the listening socket, not set per connection.
            assertThat(onLoop(socket::isTcpNoDelay)).isTrue();
            socket.close();
            assertThat(client.getInputStream().read()).isEqualTo(-1);
        } finally {
            server.close().await(5, SECONDS);
        }
    }

    @Test
    void aListenerThatDoesNotWantDirectSocketsMakesChannels() throws Exception {
        BlockingQueue<DirectSocket> accepted = new LinkedBlockingQueue<>();
        CompletableFuture<Object> child = new CompletableFuture<>();
        Channel server = listen(accepted, false, child);
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        try (java.net.Socket client = new java.net.Socket(LOOPBACK, port)) {
            assertThat(child.get(5, SECONDS)).isInstanceOf(RelayEpollSocketChannel.class);
            assertThat(accepted).isEmpty();
            // Taken over from the listening socket here too, not set per channel.
            assertThat(((Channel) child.get()).config().getOption(io.netty.channel.ChannelOption.TCP_NODELAY))
                    .isTrue();
            ((Channel) child.get()).close().await(5, SECONDS);
        } finally {
            server.close().await(5, SECONDS);
        }
    }

    @Test
    void connectsReadsWritesShutsDownAndClosesOnce() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 1, LOOPBACK)) {
            InetSocketAddress address = new InetSocketAddress(LOOPBACK, backend.getLocalPort());
            // Edge-triggered events carry every readiness bit that holds, so they are sorted here.
            BlockingQueue<String> writes = new LinkedBlockingQueue<>();
            BlockingQueue<String> events = new LinkedBlockingQueue<>();
            DirectSocket socket = onLoop(() -> {
                DirectSocket opened = DirectSocket.open(SocketProtocolFamily.INET, address);
                opened.register(loop, (s, readable, writable, hangup) -> {
                    if (writable) {
                        writes.add("writable");
                    }
                    if (readable) {
                        events.add(hangup ? "hangup" : "readable");
                    }
                });
                opened.connect();
                return opened;
            });
            try (java.net.Socket peer = backend.accept()) {
                assertThat(writes.poll(5, SECONDS)).isEqualTo("writable");
                assertThat(onLoop(socket::isTcpNoDelay)).isTrue();
                assertThat(onLoop(socket::finishConnect)).isTrue();
                ByteBuffer buffer = ByteBuffer.allocateDirect(64);
                long memory = io.netty.channel.unix.Buffer.memoryAddress(buffer);
                buffer.put("ping".getBytes(StandardCharsets.US_ASCII));
                assertThat(onLoop(() -> socket.write(memory, 4))).isEqualTo(4);
                InputStream in = peer.getInputStream();
                assertThat(in.readNBytes(4)).isEqualTo("ping".getBytes(StandardCharsets.US_ASCII));

                assertThat(onLoop(() -> socket.read(memory, 64)))
                        .as("nothing to read yet")
                        .isZero();
                OutputStream out = peer.getOutputStream();
                out.write("pong".getBytes(StandardCharsets.US_ASCII));
                assertThat(events.poll(5, SECONDS)).isEqualTo("readable");
                assertThat(onLoop(() -> socket.read(memory, 64))).isEqualTo(4);
                peer.shutdownOutput();
                assertThat(events.poll(5, SECONDS)).isEqualTo("hangup");
                assertThat(onLoop(() -> socket.read(memory, 64)))
                        .as("end of stream")
                        .isEqualTo(-1);

                onLoop(() -> {
                    socket.shutdownOutput();
                    return null;
                });
                assertThat(in.read()).as("our FIN").isEqualTo(-1);
                CompletableFuture<Void> closed = socket.whenClosed();
                assertThat(closed).isNotDone();
                socket.close(); // off the event loop: closed there
                socket.close();
                closed.get(5, SECONDS);
                assertThat(socket.isClosed()).isTrue();
                assertThat(socket.whenClosed()).isDone();
            }
        }
    }

    @Test
    void aRefusedConnectIsReportedAsAHangupAndFinishConnectSaysWhy() throws Exception {
        InetSocketAddress nobody;
        try (ServerSocket probe = new ServerSocket(0, 1, LOOPBACK)) {
            nobody = new InetSocketAddress(LOOPBACK, probe.getLocalPort());
        }
        BlockingQueue<Boolean> hangups = new LinkedBlockingQueue<>();
        DirectSocket socket = onLoop(() -> {
            DirectSocket opened = DirectSocket.open(SocketProtocolFamily.INET, nobody);
            opened.register(loop, (s, readable, writable, hangup) -> hangups.add(hangup));
            opened.connect();
            return opened;
        });
        try {
            assertThat(hangups.poll(5, SECONDS)).isTrue();
            assertThatThrownBy(() -> onLoop(socket::finishConnect))
                    .hasCauseInstanceOf(ConnectException.class)
                    .hasMessageContaining("refused");
        } finally {
            socket.close();
        }
    }

    private Channel listen(BlockingQueue<DirectSocket> accepted, boolean direct) throws InterruptedException {
        return listen(accepted, direct, new CompletableFuture<>());
    }

    private Channel listen(BlockingQueue<DirectSocket> accepted, boolean direct, CompletableFuture<Object> child)
            throws InterruptedException {
        RelayEpollServerSocketChannel.Acceptor acceptor = new RelayEpollServerSocketChannel.Acceptor() {
            @Override
            public boolean direct() {
                return direct;
            }

            @Override
            public void accepted(DirectSocket socket) {
                accepted.add(socket);
            }
        };
        return new ServerBootstrap()
                .group(group)
                .channelFactory(() -> new RelayEpollServerSocketChannel(SocketProtocolFamily.INET, acceptor))
                .childHandler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void handlerAdded(io.netty.channel.ChannelHandlerContext ctx) {
                        child.complete(ctx.channel());
                    }
                })
                .bind(new InetSocketAddress(LOOPBACK, 0))
                .sync()
                .channel();
    }

    private <T> T onLoop(IoCall<T> call) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                result.complete(call.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        try {
            return result.get(5, SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("on the event loop: " + e.getCause().getMessage(), e.getCause());
        }
    }

    private interface IoCall<T> {
        T call() throws Exception;
    }
}
