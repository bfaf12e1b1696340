package io.netty.channel.epoll;

import static io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE;
import static io.netty.channel.ChannelOption.IP_TOS;
import static io.netty.channel.ChannelOption.SO_KEEPALIVE;
import static io.netty.channel.ChannelOption.SO_LINGER;
import static io.netty.channel.ChannelOption.SO_RCVBUF;
import static io.netty.channel.ChannelOption.SO_REUSEADDR;
import static io.netty.channel.ChannelOption.SO_SNDBUF;
import static io.netty.channel.ChannelOption.TCP_NODELAY;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelOption;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannelConfig;
import java.io.IOException;
import java.util.Map;

/**
 * The options of a {@link RelayEpollSocketChannel}: the socket options a TCP channel has ({@code
 * TCP_NODELAY}, on by default; {@code SO_KEEPALIVE}, {@code SO_LINGER}, the buffer sizes, {@code
 * SO_REUSEADDR}, {@code IP_TOS}) set on the socket as they are given, half-closure, and everything
 * {@link EpollChannelConfig} has. What the relay channel does not support is refused: a positive
 * {@code SO_LINGER} (a close on the event loop must not block).
 *
 * <p>Gathering writes start bounded at {@link RelayEpollSocketChannel#INITIAL_MAX_BYTES_PER_GATHERING_WRITE}
 * bytes instead of twice the send buffer asked of the kernel; setting {@code SO_SNDBUF} bounds
 * them at twice the size set.
 */
public final class RelayEpollSocketChannelConfig extends EpollChannelConfig implements SocketChannelConfig {
    private volatile boolean allowHalfClosure;

    /**
     * The options of {@code channel}; {@code accepted}: a socket accepted by a {@link
     * RelayEpollServerSocketChannel}, which already has {@code TCP_NODELAY} from it.
     */
    RelayEpollSocketChannelConfig(RelayEpollSocketChannel channel, boolean accepted) {
        super(channel);
        if (!accepted) {
            setTcpNoDelay(true);
        }
        setMaxBytesPerGatheringWrite(RelayEpollSocketChannel.INITIAL_MAX_BYTES_PER_GATHERING_WRITE);
    }

    /** A socket call that may fail. */
    private interface SocketCall<T> {
        T call() throws IOException;
    }

    /** Runs {@code call} on the socket, a failure becoming the {@link ChannelException} Netty expects. */
    private static <T> T onSocket(SocketCall<T> call) {
        try {
            return call.call();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    // ---- options by key ---------------------------------------------------------------------

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(
                super.getOptions(),
                TCP_NODELAY,
                SO_KEEPALIVE,
                SO_LINGER,
                SO_SNDBUF,
                SO_RCVBUF,
                SO_REUSEADDR,
                IP_TOS,
                ALLOW_HALF_CLOSURE);
    }

    // Options are constants, one instance per name: identity is how Netty's configs compare them.
    @Override
    @SuppressWarnings({"unchecked", "ReferenceEquality"})
    public <T> T getOption(ChannelOption<T> option) {
        Object value;
        if (option == TCP_NODELAY) {
            value = isTcpNoDelay();
        } else if (option == SO_KEEPALIVE) {
            value = isKeepAlive();
        } else if (option == SO_LINGER) {
            value = getSoLinger();
        } else if (option == SO_SNDBUF) {
            value = getSendBufferSize();
        } else if (option == SO_RCVBUF) {
            value = getReceiveBufferSize();
        } else if (option == SO_REUSEADDR) {
            value = isReuseAddress();
        } else if (option == IP_TOS) {
            value = getTrafficClass();
        } else if (option == ALLOW_HALF_CLOSURE) {
            value = isAllowHalfClosure();
        } else {
            return super.getOption(option);
        }
        return (T) value;
    }

    @Override
    @SuppressWarnings("ReferenceEquality")
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == TCP_NODELAY) {
            setTcpNoDelay((Boolean) value);
        } else if (option == SO_KEEPALIVE) {
            setKeepAlive((Boolean) value);
        } else if (option == SO_LINGER) {
            setSoLinger((Integer) value);
        } else if (option == SO_SNDBUF) {
            setSendBufferSize((Integer) value);
        } else if (option == SO_RCVBUF) {
            setReceiveBufferSize((Integer) value);
        } else if (option == SO_REUSEADDR) {
            setReuseAddress((Boolean) value);
        } else if (option == IP_TOS) {
            setTrafficClass((Integer) value);
        } else if (option == ALLOW_HALF_CLOSURE) {
            setAllowHalfClosure((Boolean) value);
        } else {
            return super.setOption(option, value);
        }
        return true;
    }

    // ---- socket options ---------------------------------------------------------------------

    @Override
    public boolean isTcpNoDelay() {
        return onSocket(() -> socket().isTcpNoDelay());
    }

    @Override
    public RelayEpollSocketChannelConfig setTcpNoDelay(boolean on) {
        onSocket(() -> {
            socket().setTcpNoDelay(on);
            return null;
        });
        return this;
    }

    @Override
    public int getSoLinger() {
        return onSocket(() -> socket().getSoLinger());
    }

    /** 0 (close with a reset) or negative (off); a lingering close would block the event loop. */
    @Override
    public RelayEpollSocketChannelConfig setSoLinger(int soLinger) {
        if (soLinger > 0) {
            throw new IllegalArgumentException(
                    "SO_LINGER must be 0 (close with a reset) or negative (off) on a relay channel, was " + soLinger);
        }
        onSocket(() -> {
            socket().setSoLinger(soLinger);
            return null;
        });
        return this;
    }

    @Override
    public int getSendBufferSize() {
        return onSocket(() -> socket().getSendBufferSize());
    }

    @Override
    public RelayEpollSocketChannelConfig setSendBufferSize(int sendBufferSize) {
        onSocket(() -> {
            socket().setSendBufferSize(sendBufferSize);
            return null;
        });
        setMaxBytesPerGatheringWrite(2L * sendBufferSize);
        return this;
    }

    @Override
    public int getReceiveBufferSize() {
        return onSocket(() -> socket().getReceiveBufferSize());
    }

    @Override
    public RelayEpollSocketChannelConfig setReceiveBufferSize(int receiveBufferSize) {
        onSocket(() -> {
            socket().setReceiveBufferSize(receiveBufferSize);
            return null;
        });
        return this;
    }

    @Override
    public boolean isKeepAlive() {
        return onSocket(() -> socket().isKeepAlive());
    }

    @Override
    public RelayEpollSocketChannelConfig setKeepAlive(boolean keepAlive) {
        onSocket(() -> {
            socket().setKeepAlive(keepAlive);
            return null;
        });
        return this;
    }

    @Override
    public int getTrafficClass() {
        return onSocket(() -> socket().getTrafficClass());
    }

    @Override
    public RelayEpollSocketChannelConfig setTrafficClass(int trafficClass) {
        onSocket(() -> {
            socket().setTrafficClass(trafficClass);
            return null;
        });
        return this;
    }

    @Override
    public boolean isReuseAddress() {
        return onSocket(() -> socket().isReuseAddress());
    }

    @Override
    public RelayEpollSocketChannelConfig setReuseAddress(boolean reuseAddress) {
        onSocket(() -> {
            socket().setReuseAddress(reuseAddress);
            return null;
        });
        return this;
    }

    /** Ignored, as by the JDK's sockets. */
    @Override
    public RelayEpollSocketChannelConfig setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
        return this;
    }

    @Override
    public boolean isAllowHalfClosure() {
        return allowHalfClosure;
    }

    @Override
    public RelayEpollSocketChannelConfig setAllowHalfClosure(boolean allowHalfClosure) {
        this.allowHalfClosure = allowHalfClosure;
        return this;
    }

    // ---- the channel settings, typed as this config -----------------------------------------

    @Override
    public RelayEpollSocketChannelConfig setConnectTimeoutMillis(int connectTimeoutMillis) {
        super.setConnectTimeoutMillis(connectTimeoutMillis);
        return this;
    }

    @Override
    @Deprecated
    public RelayEpollSocketChannelConfig setMaxMessagesPerRead(int maxMessagesPerRead) {
        super.setMaxMessagesPerRead(maxMessagesPerRead);
        return this;
    }

    @Override
    public RelayEpollSocketChannelConfig setWriteSpinCount(int writeSpinCount) {
        super.setWriteSpinCount(writeSpinCount);
        return this;
    }

    @Override
    public RelayEpollSocketChannelConfig setAllocator(ByteBufAllocator allocator) {
        super.setAllocator(allocator);
        return this;
    }

    @Override
    public RelayEpollSocketChannelConfig setRecvByteBufAllocator(RecvByteBufAllocator allocator) {
        super.setRecvByteBufAllocator(allocator);
        return this;
    }

    @Override
    public RelayEpollSocketChannelConfig setAutoRead(boolean autoRead) {
        super.setAutoRead(autoRead);
        return this;
    }

    @Override
    public RelayEpollSocketChannelConfig setAutoClose(boolean autoClose) {
        super.setAutoClose(autoClose);
        return this;
    }

    @Override
    public RelayEpollSocketChannelConfig setMessageSizeEstimator(MessageSizeEstimator estimator) {
        super.setMessageSizeEstimator(estimator);
        return this;
    }

    @Override
    public RelayEpollSocketChannelConfig setWriteBufferWaterMark(WriteBufferWaterMark writeBufferWaterMark) {
        super.setWriteBufferWaterMark(writeBufferWaterMark);
        return this;
    }
}
