package dev.belfry.netty.transport;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.belfry.test.NoNettyLeaks;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The epoll half-closure defect of Netty 4.2.18, on real sockets: a server channel (auto-read off,
 * half-closure allowed) reads its client's FIN, then writes far more than the socket buffers hold.
 */
@ExtendWith(NoNettyLeaks.class)
@Timeout(value = 30, unit = SECONDS)
class EpollRegistrationsTest {
    private static final int CHUNK = 64 * 1024;
    private static final int CHUNKS = 32; // 2 MiB against buffers of a few tens of KiB
    private static final int SOCKET_BUFFER = 16 * 1024;

    private final List<EventLoopGroup> groups = new ArrayList<>();
    private final List<Channel> servers = new ArrayList<>();

    @BeforeEach
    void needsEpoll() {
        assumeTrue(Epoll.isAvailable(), "epoll is not available here");
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        for (Channel server : servers) {
            assertThat(server.close().await(5, SECONDS)).isTrue();
        }
        for (EventLoopGroup group : groups) {
            assertThat(group.shutdownGracefully(0, 1, SECONDS).await(5, SECONDS))
                    .isTrue();
        }
    }

    @Test
    void aWriteThatWaitsAfterThePeersFinArrivesWhole() throws Exception {
        Outcome outcome = halfCloseThenWriteLarge(EpollRegistrations.factory());

        assertThat(outcome.writeFailure).isNull();
        assertThat(outcome.received).isEqualTo((long) CHUNK * CHUNKS);
        assertThat(outcome.intact).isTrue();
    }

    @Test
    void theTransportsEpollGroupKeepsHalfClosedSocketsWatched() throws Exception {
        Outcome outcome = halfCloseThenWriteLarge(Transport.EPOLL.ioHandlerFactory());

        assertThat(outcome.writeFailure).isNull();
        assertThat(outcome.received).isEqualTo((long) CHUNK * CHUNKS);
    }

    /**
     * The defect itself, on Netty's own handler: the write fails with ENOENT and the client gets a
     * fraction of the bytes. When this test fails, Netty has fixed it: {@link EpollRegistrations}
     * can go, and this test with it.
     */
    @Test
    void nettysOwnHandlerStillLosesTheWrite() throws Exception {
        Outcome outcome = halfCloseThenWriteLarge(EpollIoHandler.newFactory());

        assertThat(outcome.writeFailure).isNotNull();
        assertThat(rootMessage(outcome.writeFailure)).contains("No such file or directory");
        assertThat(outcome.received).isLessThan((long) CHUNK * CHUNKS);
    }

    @Test
    void anEmptySetKeepsAnAddedSocketInTheSetAndRepeatsAreNotSubmitted() {
        List<Integer> submitted = new ArrayList<>();
        EpollRegistrations.Registration registration = new EpollRegistrations.Registration(new Recording(submitted));

        assertThat(registration.submit(EpollIoOps.NONE)).isZero(); // not added yet: Netty's no-op
        assertThat(registration.submit(EpollIoOps.EPOLLRDHUP)).isEqualTo(EpollIoOps.EPOLLRDHUP.value());
        assertThat(registration.submit(EpollIoOps.EPOLLRDHUP)).isEqualTo(EpollIoOps.EPOLLRDHUP.value());
        assertThat(registration.submit(EpollIoOps.NONE)).isZero();
        assertThat(registration.submit(EpollIoOps.NONE)).isZero();
        assertThat(registration.submit(EpollIoOps.EPOLLOUT)).isEqualTo(EpollIoOps.EPOLLOUT.value());

        assertThat(submitted)
                .containsExactly(
                        0, EpollIoOps.EPOLLRDHUP.value(), EpollIoOps.EPOLLET.value(), EpollIoOps.EPOLLOUT.value());
    }

    @Test
    void aNarrowedSetWaitsForTheNextWaitAndIsFoldedIntoAWiderOne() {
        List<Integer> submitted = new ArrayList<>();
        List<EpollRegistrations.Registration> narrowed = new ArrayList<>();
        EpollRegistrations.Registration registration =
                new EpollRegistrations.Registration(new Recording(submitted), narrowed);
        int out = EpollIoOps.EPOLLOUT.value() | EpollIoOps.EPOLLRDHUP.value();
        int in = EpollIoOps.EPOLLIN.value() | EpollIoOps.EPOLLRDHUP.value();

        // A connect: added with EPOLLOUT; once connected, EPOLLOUT dropped, then EPOLLIN asked for.
        registration.submit(EpollIoOps.valueOf(out));
        registration.submit(EpollIoOps.EPOLLRDHUP);
        assertThat(narrowed).containsExactly(registration);
        assertThat(submitted).containsExactly(out); // the narrowing waits
        registration.submit(EpollIoOps.valueOf(in));
        assertThat(submitted).containsExactly(out, in); // one call for both changes
        registration.submitNarrowed();
        assertThat(submitted).containsExactly(out, in); // nothing left to narrow
        narrowed.clear();

        // The peer's FIN: EPOLLIN dropped, then EPOLLRDHUP: one call, before the next wait.
        registration.submit(EpollIoOps.EPOLLRDHUP);
        registration.submit(EpollIoOps.NONE);
        assertThat(narrowed).containsExactly(registration);
        assertThat(submitted).containsExactly(out, in);
        registration.submitNarrowed();
        assertThat(submitted).containsExactly(out, in, EpollIoOps.EPOLLET.value());
        narrowed.clear();

        // Narrowed and widened back before the wait: nothing to submit.
        registration.submit(EpollIoOps.valueOf(in));
        registration.submit(EpollIoOps.EPOLLRDHUP);
        registration.submit(EpollIoOps.valueOf(in));
        registration.submitNarrowed();
        assertThat(submitted).containsExactly(out, in, EpollIoOps.EPOLLET.value(), in);
    }

    @Test
    void aNarrowingOfASocketClosedBeforeTheWaitIsNotSubmitted() {
        List<Integer> submitted = new ArrayList<>();
        List<EpollRegistrations.Registration> narrowed = new ArrayList<>();
        Recording recording = new Recording(submitted);
        EpollRegistrations.Registration registration = new EpollRegistrations.Registration(recording, narrowed);
        int in = EpollIoOps.EPOLLIN.value() | EpollIoOps.EPOLLRDHUP.value();

        registration.submit(EpollIoOps.valueOf(in));
        registration.submit(EpollIoOps.EPOLLRDHUP);
        assertThat(registration.cancel()).isTrue();
        registration.submitNarrowed();
        assertThat(submitted).containsExactly(in);
    }

    /** A registration that records what is submitted to it, as Netty's would pass it to epoll_ctl. */
    private static final class Recording implements IoRegistration {
        private final List<Integer> submitted;
        private boolean valid = true;

        Recording(List<Integer> submitted) {
            this.submitted = submitted;
        }

        @Override
        @SuppressWarnings({"TypeParameterUnusedInFormals", "unchecked"})
        public <T> T attachment() {
            return (T) this;
        }

        @Override
        public long submit(IoOps ops) {
            if (!valid) {
                return -1;
            }
            int value = ((EpollIoOps) ops).value();
            submitted.add(value);
            return value;
        }

        @Override
        public boolean isValid() {
            return valid;
        }

        @Override
        public boolean cancel() {
            boolean was = valid;
            valid = false;
            return was;
        }
    }

    private record Outcome(@Nullable Throwable writeFailure, long received, boolean intact) {}

    private Outcome halfCloseThenWriteLarge(IoHandlerFactory factory) throws Exception {
        EventLoopGroup group =
                new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("epoll-test", true), factory);
        groups.add(group);
        CompletableFuture<@Nullable Throwable> written = new CompletableFuture<>();
        Channel server = new ServerBootstrap()
                .group(group)
                .channel(EpollServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.SO_SNDBUF, SOCKET_BUFFER)
                .childHandler(new WriteAfterFin(written))
                .bind(new InetSocketAddress(NetUtil.LOCALHOST4, 0))
                .sync()
                .channel();
        servers.add(server);

        try (Socket client = new Socket()) {
            client.setReceiveBufferSize(SOCKET_BUFFER);
            client.setSoTimeout(10_000);
            client.connect(server.localAddress());
            client.shutdownOutput();
            long received = 0;
            boolean intact = true;
            byte[] buffer = new byte[8192];
            InputStream in = client.getInputStream();
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    for (int i = 0; i < n; i++) {
                        intact &= buffer[i] == pattern(received + i);
                    }
                    received += n;
                }
            } catch (IOException e) {
                // A reset after the failed write: what arrived before it is what counts.
            }
            return new Outcome(written.get(10, SECONDS), received, intact);
        }
    }

    private static byte pattern(long index) {
        return (byte) (index % 251);
    }

    private static String rootMessage(Throwable failure) {
        Throwable cause = failure;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return String.valueOf(cause.getMessage());
    }

    /**
     * Reads until the client's FIN, then, in a later task (after Netty has finished handling the
     * FIN, so the socket's interest set is empty), writes {@code CHUNKS} chunks and shuts its output.
     */
    private static final class WriteAfterFin extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<@Nullable Throwable> written;

        WriteAfterFin(CompletableFuture<@Nullable Throwable> written) {
            this.written = written;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof ChannelInputShutdownEvent) {
                ctx.executor().execute(() -> writeAll(ctx));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // The failed write, reported once more for each chunk: the listener below records it.
        }

        private void writeAll(ChannelHandlerContext ctx) {
            long offset = 0;
            byte[] bytes = new byte[CHUNK];
            for (int c = 0; c < CHUNKS; c++) {
                for (int i = 0; i < CHUNK; i++) {
                    bytes[i] = pattern(offset + i);
                }
                ByteBuf chunk = Unpooled.directBuffer(CHUNK).writeBytes(bytes);
                offset += CHUNK;
                if (c < CHUNKS - 1) {
                    ctx.write(chunk, ctx.voidPromise());
                } else {
                    ctx.writeAndFlush(chunk).addListener((ChannelFutureListener) done -> {
                        written.complete(done.cause());
                        if (done.isSuccess()) {
                            ((DuplexChannel) done.channel()).shutdownOutput();
                        } else {
                            done.channel().close();
                        }
                    });
                }
            }
        }
    }
}
