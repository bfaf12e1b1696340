package dev.belfry.proxy.l4;

import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.proxy.config.ListenerConfig;
import dev.belfry.proxy.config.ProxyProtocol;
import dev.belfry.test.ManualClock;
import dev.belfry.test.NoNettyLeaks;
import dev.belfry.time.Clock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The byte relay in {@link EmbeddedChannel}s: a client channel and a backend channel relayed to
 * each other, with no sockets. Input fed whole, one byte at a time and in seeded random fragments
 * arrives whole and in order on the other side; a FIN each way is passed on as a half close, and
 * the second one ends the relay; a reset each way is passed on as a reset; an unwritable side stops
 * the reads of the other until it drains; the idle timeout and a forced close end it with their
 * reason.
 */
@ExtendWith(NoNettyLeaks.class)
class RelayBytesTest {
    private static final Duration IDLE = Duration.ofSeconds(30);

    /** How input is cut into reads. */
    enum Feed {
        WHOLE,
        BYTE_BY_BYTE,
        RANDOM_FRAGMENTS
    }

    /** The side input comes from. */
    enum From {
        CLIENT,
        BACKEND
    }

    private final ManualClock clock = new ManualClock();
    private final Set<RelayBase> open = new HashSet<>();
    private int closed;
    private final RelayEngine engine = new RelayEngine() {
        @Override
        public boolean accepting() {
            return true;
        }

        @Override
        public @Nullable Cluster cluster(String name) {
            return null;
        }

        @Override
        public Clock clock() {
            return clock;
        }

        @Override
        public void opened(RelayBase relay) {
            open.add(relay);
        }

        @Override
        public void closed(RelayBase relay) {
            assertThat(open.remove(relay)).as("closed once, after it opened").isTrue();
            closed++;
        }
    };
    private final BackendStats backendStats =
            new BackendStats("app", new InetSocketAddress(InetAddress.getLoopbackAddress(), 9000));
    private final ReadCounter clientReads = new ReadCounter();
    private final ReadCounter backendReads = new ReadCounter();
    private final Listener listener = listener();
    private final Peer client = new Peer();
    private final Peer backend = new Peer();
    private final Relay relay;

    RelayBytesTest() {
        client.pipeline().addFirst("reads", clientReads);
        backend.pipeline().addFirst("reads", backendReads);
        relay = Relay.relay(engine, listener, client, new BackendConnection(backend, backendStats));
    }

    @AfterEach
    void cleanUp() {
        client.finishAndReleaseAll();
        backend.finishAndReleaseAll();
        assertThat(open).as("every relay told the engine it closed").isEmpty();
        assertThat(listener.stats().connectionsActive()).isZero();
    }

    @Test
    void bothSidesAreReadOnceTheBackendIsConnected() {
        assertThat(clientReads.count).isEqualTo(1);
        assertThat(backendReads.count).isEqualTo(1);
        assertThat(relay.outbound()).isSameAs(backend);
        client.close();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void bytesFromTheClientReachTheBackendWholeAndInOrder(Feed feed) {
        byte[] sent = bytes(20_000, 1);

        int reads = feed(client, sent, feed);

        assertThat(drain(backend)).isEqualTo(sent);
        assertThat(drain(client)).isEmpty();
        assertThat(backendStats.bytesToBackend()).isEqualTo(sent.length);
        assertThat(clientReads.count)
                .as("one more read asked after each read batch")
                .isEqualTo(1 + reads);
        assertThat(backendReads.count).isEqualTo(1);
        client.close();
        assertThat(relay.closeReason()).isEqualTo("client closed");
        assertThat(backend.isOpen()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void bytesFromTheBackendReachTheClientWholeAndInOrder(Feed feed) {
        byte[] sent = bytes(20_000, 2);

        int reads = feed(backend, sent, feed);

        assertThat(drain(client)).isEqualTo(sent);
        assertThat(drain(backend)).isEmpty();
        assertThat(backendStats.bytesFromBackend()).isEqualTo(sent.length);
        assertThat(backendReads.count).isEqualTo(1 + reads);
        assertThat(clientReads.count).isEqualTo(1);
        backend.close();
        assertThat(relay.closeReason()).isEqualTo("backend closed");
        assertThat(client.isOpen()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void bothDirectionsInterleavedKeepTheirOrder(Feed feed) {
        byte[] up = bytes(5_000, 3);
        byte[] down = bytes(7_000, 4);
        ByteArrayOutputStream atBackend = new ByteArrayOutputStream();
        ByteArrayOutputStream atClient = new ByteArrayOutputStream();
        Random random = new Random(11);
        int u = 0;
        int d = 0;
        while (u < up.length || d < down.length) {
            if (u < up.length) {
                int n = piece(feed, random, up.length - u);
                client.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(up, u, u + n)));
                u += n;
            }
            if (d < down.length) {
                int n = piece(feed, random, down.length - d);
                backend.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(down, d, d + n)));
                d += n;
            }
            atBackend.writeBytes(drain(backend));
            atClient.writeBytes(drain(client));
        }

        assertThat(atBackend.toByteArray()).isEqualTo(up);
        assertThat(atClient.toByteArray()).isEqualTo(down);
        client.close();
    }

    @ParameterizedTest
    @EnumSource(From.class)
    void aFinIsPassedOnAsAHalfCloseAndTheSecondOneEndsTheRelay(From from) {
        Peer first = from == From.CLIENT ? client : backend;
        Peer second = from == From.CLIENT ? backend : client;
        first.writeInbound(Unpooled.wrappedBuffer(bytes(100, 5)));

        fin(first);

        assertThat(second.outputShut).as("the FIN passed on").isTrue();
        assertThat(first.outputShut).isFalse();
        assertThat(drain(second)).as("what came before the FIN, first").isEqualTo(bytes(100, 5));
        assertThat(first.isOpen()).isTrue();
        assertThat(second.isOpen()).isTrue();
        assertThat(relay.closeReason()).isNull();

        // The other direction still flows.
        byte[] reply = bytes(3_000, 6);
        feed(second, reply, Feed.RANDOM_FRAGMENTS);
        assertThat(drain(first)).isEqualTo(reply);

        fin(second);

        assertThat(first.isOpen()).isFalse();
        assertThat(second.isOpen()).isFalse();
        assertThat(relay.closeReason()).isEqualTo("done");
        assertThat(closed).isEqualTo(1);
        assertThat(first.linger).as("a clean end is no reset").isNull();
        assertThat(second.linger).isNull();
    }

    @ParameterizedTest
    @EnumSource(From.class)
    void aResetIsPassedOnAsAReset(From from) {
        Peer failed = from == From.CLIENT ? client : backend;
        Peer other = from == From.CLIENT ? backend : client;

        failed.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));

        assertThat(other.linger).as("closed with SO_LINGER 0: a reset").isEqualTo(0);
        assertThat(other.isOpen()).isFalse();
        assertThat(failed.isOpen()).isFalse();
        assertThat(relay.closeReason())
                .isEqualTo((from == From.CLIENT ? "client" : "backend") + " error: Connection reset by peer");
        assertThat(closed).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(From.class)
    void aSlowReaderStopsTheReadsOfTheOtherSideUntilItIsWritable(From from) {
        Peer writer = from == From.CLIENT ? client : backend;
        Peer reader = from == From.CLIENT ? backend : client;
        ReadCounter writerReads = from == From.CLIENT ? clientReads : backendReads;

        writer.writeInbound(Unpooled.wrappedBuffer(bytes(1_000, 7)));
        assertThat(writerReads.count).isEqualTo(2);

        writable(reader, false);
        writer.writeInbound(Unpooled.wrappedBuffer(bytes(1_000, 8)));
        assertThat(writerReads.count)
                .as("no read while the reader is unwritable")
                .isEqualTo(2);
        writer.runPendingTasks();
        assertThat(writerReads.count).isEqualTo(2);

        writable(reader, true);
        assertThat(writerReads.count).as("reads resume once it is writable").isEqualTo(3);
        writable(reader, false);
        writable(reader, true);
        assertThat(writerReads.count)
                .as("one read per pause, not per writability change")
                .isEqualTo(3);

        ByteArrayOutputStream both = new ByteArrayOutputStream();
        both.writeBytes(bytes(1_000, 7));
        both.writeBytes(bytes(1_000, 8));
        assertThat(drain(reader)).isEqualTo(both.toByteArray());
        client.close();
    }

    @Test
    void theIdleTimeoutCountsFromTheLastReadOnEitherSide() {
        advance(IDLE.minusMillis(1));
        assertThat(client.isOpen()).isTrue();

        backend.writeInbound(Unpooled.wrappedBuffer(bytes(10, 9)));
        advance(IDLE.minusMillis(1));
        assertThat(client.isOpen()).as("a read restarted the count").isTrue();

        advance(Duration.ofMillis(1));
        assertThat(client.isOpen()).isFalse();
        assertThat(backend.isOpen()).isFalse();
        assertThat(relay.closeReason()).isEqualTo("idle timeout");
        assertThat(drain(client)).hasSize(10);
    }

    @Test
    void aForcedCloseClosesBothSidesOnce() {
        assertThat(relay.forceClose("draining")).isNull();
        relay.forceClose("again");

        assertThat(client.isOpen()).isFalse();
        assertThat(backend.isOpen()).isFalse();
        assertThat(relay.closeReason()).isEqualTo("draining");
        assertThat(closed).isEqualTo(1);
    }

    /** Moves both the relay's clock and the client loop's time, and runs what is due. */
    private void advance(Duration duration) {
        clock.advance(duration);
        client.advanceTimeBy(duration.toNanos(), NANOSECONDS);
        client.runScheduledPendingTasks();
    }

    /** Feeds {@code bytes} to {@code channel} cut as {@code feed} says; returns how many reads. */
    private static int feed(EmbeddedChannel channel, byte[] bytes, Feed feed) {
        Random random = new Random(7);
        int at = 0;
        int reads = 0;
        while (at < bytes.length) {
            int length = piece(feed, random, bytes.length - at);
            channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, at, at + length)));
            at += length;
            reads++;
        }
        return reads;
    }

    private static int piece(Feed feed, Random random, int left) {
        return switch (feed) {
            case WHOLE -> left;
            case BYTE_BY_BYTE -> 1;
            case RANDOM_FRAGMENTS -> 1 + random.nextInt(Math.min(1_500, left));
        };
    }

    /** Makes {@code channel} unwritable or writable again, as a full or drained socket is. */
    private static void writable(EmbeddedChannel channel, boolean writable) {
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        assertThat(buffer).isNotNull();
        buffer.setUserDefinedWritability(1, writable);
        channel.runPendingTasks(); // the writability change is fired later on the loop
        assertThat(channel.isWritable()).isEqualTo(writable);
    }

    private static void fin(Peer channel) {
        channel.shutdownInput();
        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    }

    /** What the relay wrote to {@code channel}, each buffer released. */
    private static byte[] drain(EmbeddedChannel channel) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Object msg;
        while ((msg = channel.readOutbound()) != null) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                byte[] bytes = new byte[buf.readableBytes()];
                buf.readBytes(bytes);
                out.writeBytes(bytes);
            } finally {
                buf.release();
            }
        }
        return out.toByteArray();
    }

    private static byte[] bytes(int n, long seed) {
        byte[] bytes = new byte[n];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static Listener listener() {
        ListenerConfig config = new ListenerConfig(
                "web",
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                "app",
                100,
                IDLE,
                ProxyProtocol.NONE,
                Duration.ofSeconds(5));
        return new Listener(config, new ListenerStats(config.name(), config.listen()));
    }

    /** Counts the reads the relay asks of a channel. */
    private static final class ReadCounter extends ChannelOutboundHandlerAdapter {
        int count;

        @Override
        public void read(ChannelHandlerContext ctx) {
            count++;
            ctx.read();
        }
    }

    /**
     * An embedded channel that can be half closed, as a socket can, with auto-read off, that
     * records the {@code SO_LINGER} the relay sets to pass a reset on.
     */
    private static final class Peer extends EmbeddedChannel implements DuplexChannel {
        // Set on first use: the super constructor already asks for the config.
        private @Nullable DefaultChannelConfig config;

        @Nullable
        Integer linger;

        boolean inputShut;
        boolean outputShut;

        Peer() {
            freezeTime();
            config().setAutoRead(false);
        }

        @Override
        public ChannelConfig config() {
            DefaultChannelConfig c = config;
            if (c == null) {
                c = new DefaultChannelConfig(this) {
                    @Override
                    public <T> boolean setOption(ChannelOption<T> option, T value) {
                        if (ChannelOption.SO_LINGER.equals(option)) {
                            linger = (Integer) value;
                            return true;
                        }
                        return super.setOption(option, value);
                    }
                };
                config = c;
            }
            return c;
        }

        @Override
        public boolean isInputShutdown() {
            return inputShut;
        }

        @Override
        public ChannelFuture shutdownInput() {
            return shutdownInput(newPromise());
        }

        @Override
        public ChannelFuture shutdownInput(ChannelPromise promise) {
            inputShut = true;
            return promise.setSuccess();
        }

        @Override
        public boolean isOutputShutdown() {
            return outputShut;
        }

        @Override
        public ChannelFuture shutdownOutput() {
            return shutdownOutput(newPromise());
        }

        @Override
        public ChannelFuture shutdownOutput(ChannelPromise promise) {
            outputShut = true;
            return promise.setSuccess();
        }

        @Override
        public boolean isShutdown() {
            return inputShut && outputShut;
        }

        @Override
        public ChannelFuture shutdown() {
            return shutdown(newPromise());
        }

        @Override
        public ChannelFuture shutdown(ChannelPromise promise) {
            inputShut = true;
            outputShut = true;
            return promise.setSuccess();
        }
    }
}
