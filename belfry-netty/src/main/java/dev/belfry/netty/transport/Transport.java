package dev.belfry.netty.transport;

import dev.belfry.Checks;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The I/O transport Netty runs on: io_uring, epoll or NIO, with the event-loop group and channel
 * classes that belong to it.
 *
 * <p>Every Belfry component that opens sockets asks this one place, so a process never mixes
 * transports (a channel only registers with an event loop of its own transport). {@link #select()}
 * reads the {@value #PROPERTY} system property: {@code auto} (the default) picks the best available
 * one in the order epoll, io_uring, NIO; a named transport is used if available and fails with a
 * message naming the setting otherwise, so a forced choice is never silently replaced. Epoll comes
 * first because it is the more proven of Netty's native transports, and many deployments have no
 * io_uring anyway (Docker's default seccomp profile blocks it); io_uring stays available by name.
 * {@link #selectForRelay()} reads the same property but takes epoll (else NIO) when it is unset or
 * {@code auto}, for the reasons given there: the choice of the proxy and of anything else that
 * relays half-closed connections. The epoll transport's event loops work around a half-closure
 * defect of Netty 4.2.18 (see {@code EpollRegistrations}).
 *
 * <p>Thread-safe: constants with no state of their own (availability is Netty's, computed once).
 */
public enum Transport {
    /** Linux io_uring, through {@code netty-transport-native-io_uring}. */
    IO_URING("io_uring") {
        @Override
        @Nullable
        Throwable unavailabilityCause() {
            return IoUring.isAvailable() ? null : IoUring.unavailabilityCause();
        }

        @Override
        public IoHandlerFactory ioHandlerFactory() {
            return IoUringIoHandler.newFactory();
        }

        @Override
        public Class<? extends ServerSocketChannel> serverChannelType() {
            return IoUringServerSocketChannel.class;
        }

        @Override
        public Class<? extends SocketChannel> channelType() {
            return IoUringSocketChannel.class;
        }

        @Override
        public Class<? extends DatagramChannel> datagramChannelType() {
            return IoUringDatagramChannel.class;
        }
    },

    /** Linux epoll, through {@code netty-transport-native-epoll}. */
    EPOLL("epoll") {
        @Override
        @Nullable
        Throwable unavailabilityCause() {
            return Epoll.isAvailable() ? null : Epoll.unavailabilityCause();
        }

        @Override
        public IoHandlerFactory ioHandlerFactory() {
            // Netty's handler, with a half-closed socket kept in the epoll set (see EpollRegistrations).
            return EpollRegistrations.factory();
        }

        @Override
        public Class<? extends ServerSocketChannel> serverChannelType() {
            return EpollServerSocketChannel.class;
        }

        @Override
        public Class<? extends SocketChannel> channelType() {
            return EpollSocketChannel.class;
        }

        @Override
        public Class<? extends DatagramChannel> datagramChannelType() {
            return EpollDatagramChannel.class;
        }
    },

    /** Java NIO: available everywhere, the fallback. */
    NIO("nio") {
        @Override
        @Nullable
        Throwable unavailabilityCause() {
            return null;
        }

        @Override
        public IoHandlerFactory ioHandlerFactory() {
            return NioIoHandler.newFactory();
        }

        @Override
        public Class<? extends ServerSocketChannel> serverChannelType() {
            return NioServerSocketChannel.class;
        }

        @Override
        public Class<? extends SocketChannel> channelType() {
            return NioSocketChannel.class;
        }

        @Override
        public Class<? extends DatagramChannel> datagramChannelType() {
            return NioDatagramChannel.class;
        }
    };

    /** The system property that chooses the transport: {@code auto}, {@code io_uring}, {@code epoll} or {@code nio}. */
    public static final String PROPERTY = "belfry.transport";

    // The order in which auto tries them; NIO, always available, last.
    private static final List<Transport> PREFERENCE = List.of(EPOLL, IO_URING, NIO);

    private final String setting;

    Transport(String setting) {
        this.setting = setting;
    }

    /** The name of this transport as written in settings: {@code io_uring}, {@code epoll} or {@code nio}. */
    public String setting() {
        return setting;
    }

    /** Whether this transport can be used in this process (its native library loaded). */
    public boolean isAvailable() {
        return unavailabilityCause() == null;
    }

    /** Why this transport cannot be used here, or null if it can. */
    abstract @Nullable Throwable unavailabilityCause();

    /** A new factory for this transport's I/O handlers, for a {@link MultiThreadIoEventLoopGroup}. */
    public abstract IoHandlerFactory ioHandlerFactory();

    /** The server (listening) TCP channel class of this transport. */
    public abstract Class<? extends ServerSocketChannel> serverChannelType();

    /** The client TCP channel class of this transport. */
    public abstract Class<? extends SocketChannel> channelType();

    /** The UDP channel class of this transport, as DNS resolvers need. */
    public abstract Class<? extends DatagramChannel> datagramChannelType();

    /**
     * A new event-loop group of {@code threads} daemon threads named {@code name-N}, running this
     * transport; the caller owns it and shuts it down.
     *
     * @throws IllegalStateException if this transport is not available here
     */
    public EventLoopGroup newEventLoopGroup(int threads, String name) {
        Checks.positive(threads, "threads");
        Checks.notNull(name, "name");
        ensureAvailable(setting);
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), ioHandlerFactory());
    }

    /**
     * The transport chosen by the {@value #PROPERTY} system property, or the best available one if it
     * is unset or {@code auto}.
     *
     * @throws IllegalArgumentException if the property names no transport
     * @throws IllegalStateException if the property names a transport that is not available here
     */
    public static Transport select() {
        return select(System.getProperty(PROPERTY, "auto"), PROPERTY);
    }

    /**
     * The transport chosen by {@code value}, a setting named {@code settingName} in error messages:
     * {@code auto} picks the best available one (epoll, then io_uring, then NIO); a transport name
     * ({@code io_uring}, {@code epoll}, {@code nio}, any case) picks that one.
     *
     * @throws IllegalArgumentException if {@code value} names no transport
     * @throws IllegalStateException if {@code value} names a transport that is not available here
     */
    public static Transport select(String value, String settingName) {
        return select(value, settingName, Transport::unavailabilityCause);
    }

    /**
     * The transport for a process that relays TCP connections byte for byte with half-close passed
     * on (the proxy's L4 engine): the one the {@value #PROPERTY} system property names if it names
     * one; if it is unset or {@code auto}, epoll where it is available, else NIO.
     *
     * <p>Epoll because it costs the relay fewer system calls per connection than NIO ({@code
     * accept4} with the socket already non-blocking, no selector bookkeeping); its half-closure
     * defect in Netty 4.2.18 is worked around by this class's epoll handler (see {@code
     * EpollRegistrations}). Not io_uring unless named, because Netty 4.2.18's io_uring transport
     * notices a peer's reset while the relay has paused reading it (auto-read off, waiting for the
     * other side to drain) only at the idle timeout. The proxy's relay tests run on another
     * transport with {@code BELFRY_TEST_TRANSPORT=nio} or {@code io_uring}.
     *
     * @throws IllegalArgumentException if the property names no transport
     * @throws IllegalStateException if the property names a transport that is not available here
     */
    public static Transport selectForRelay() {
        return selectForRelay(System.getProperty(PROPERTY), PROPERTY, Transport::unavailabilityCause);
    }

    // The rule of selectForRelay, with the property's value and availability as parameters for tests.
    static Transport selectForRelay(
            @Nullable String value, String settingName, Function<Transport, @Nullable Throwable> unavailability) {
        if (value == null || value.isBlank() || value.strip().equalsIgnoreCase("auto")) {
            return unavailability.apply(EPOLL) == null ? EPOLL : NIO;
        }
        return select(value, settingName, unavailability);
    }

    /** The best transport available here: epoll, then io_uring, then NIO. */
    public static Transport best() {
        return best(Transport::unavailabilityCause);
    }

    // Availability is a parameter so tests can simulate a machine without a native transport.
    static Transport select(String value, String settingName, Function<Transport, @Nullable Throwable> unavailability) {
        Checks.notNull(value, settingName);
        Checks.notNull(settingName, "settingName");
        String wanted = value.strip().toLowerCase(Locale.ROOT);
        if (wanted.equals("auto")) {
            return best(unavailability);
        }
        for (Transport transport : values()) {
            if (transport.setting.equals(wanted)
                    || transport.setting.replace("_", "").equals(wanted)) {
                Throwable cause = unavailability.apply(transport);
                if (cause != null) {
                    throw new IllegalStateException(
                            settingName + "=" + value + " but the " + transport.setting
                                    + " transport is not available here (" + cause + "); use " + settingName
                                    + "=auto to fall back to the best available one",
                            cause);
                }
                return transport;
            }
        }
        throw new IllegalArgumentException(
                settingName + " must be one of auto, io_uring, epoll, nio, was '" + value + "'");
    }

    private static Transport best(Function<Transport, @Nullable Throwable> unavailability) {
        for (Transport transport : PREFERENCE) {
            if (unavailability.apply(transport) == null) {
                return transport;
            }
        }
        return NIO;
    }

    private void ensureAvailable(String settingName) {
        Throwable cause = unavailabilityCause();
        if (cause != null) {
            throw new IllegalStateException(
                    "the " + settingName + " transport is not available here (" + cause + ")", cause);
        }
    }
}
