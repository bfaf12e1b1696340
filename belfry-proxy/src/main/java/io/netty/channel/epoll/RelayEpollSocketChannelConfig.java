/*
 * Copyright 2014 The Netty Project
 *
 * The Netty Project licenses this file to you under the Apache License,
 * version 2.0 (the "License"); you may not use this file except in compliance
 * with the License. You may obtain a copy of the License at:
 *
 *   https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
 * WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 * License for the specific language governing permissions and limitations
 * under the License.
 */
/*
 * Belfry: a copy of Netty 4.2.18's EpollSocketChannelConfig for RelayEpollSocketChannel (Netty's
 * config can only belong to its own final EpollSocketChannel). Changes are marked "Belfry:".
 */
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
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.util.Map;

public final class RelayEpollSocketChannelConfig extends EpollChannelConfig implements SocketChannelConfig {
    private volatile boolean allowHalfClosure;

    /**
     * Creates a new instance.
     */
    RelayEpollSocketChannelConfig(RelayEpollSocketChannel channel) {
        super(channel);

        if (PlatformDependent.canEnableTcpNoDelayByDefault()) {
            setTcpNoDelay(true);
        }
        // Belfry: a fixed first bound instead of twice the SO_SNDBUF asked of the kernel (a getsockopt
        // per socket). 32 KiB is what Netty computes from Linux's default send buffer (tcp_wmem's
        // 16 KiB); Netty adapts the bound to what each write achieves from there, as before.
        setMaxBytesPerGatheringWrite(RelayEpollSocketChannel.INITIAL_MAX_BYTES_PER_GATHERING_WRITE);
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(
                super.getOptions(),
                SO_RCVBUF,
                SO_SNDBUF,
                TCP_NODELAY,
                SO_KEEPALIVE,
                SO_REUSEADDR,
                SO_LINGER,
                IP_TOS,
                ALLOW_HALF_CLOSURE,
                EpollChannelOption.TCP_CORK,
                EpollChannelOption.TCP_NOTSENT_LOWAT,
                EpollChannelOption.TCP_KEEPCNT,
                EpollChannelOption.TCP_KEEPIDLE,
                EpollChannelOption.TCP_KEEPINTVL,
                EpollChannelOption.TCP_QUICKACK,
                EpollChannelOption.IP_BIND_ADDRESS_NO_PORT,
                EpollChannelOption.IP_TRANSPARENT,
                ChannelOption.TCP_FASTOPEN_CONNECT,
                EpollChannelOption.SO_BUSY_POLL);
    }

    @SuppressWarnings("unchecked")
    @Override
    public <T> T getOption(ChannelOption<T> option) {
        if (option.equals(SO_RCVBUF)) {
            return (T) Integer.valueOf(getReceiveBufferSize());
        }
        if (option.equals(SO_SNDBUF)) {
            return (T) Integer.valueOf(getSendBufferSize());
        }
        if (option.equals(TCP_NODELAY)) {
            return (T) Boolean.valueOf(isTcpNoDelay());
        }
        if (option.equals(SO_KEEPALIVE)) {
            return (T) Boolean.valueOf(isKeepAlive());
        }
        if (option.equals(SO_REUSEADDR)) {
            return (T) Boolean.valueOf(isReuseAddress());
        }
        if (option.equals(SO_LINGER)) {
            return (T) Integer.valueOf(getSoLinger());
        }
        if (option.equals(IP_TOS)) {
            return (T) Integer.valueOf(getTrafficClass());
        }
        if (option.equals(ALLOW_HALF_CLOSURE)) {
            return (T) Boolean.valueOf(isAllowHalfClosure());
        }
        if (option.equals(EpollChannelOption.TCP_CORK)) {
            return (T) Boolean.valueOf(isTcpCork());
        }
        if (option.equals(EpollChannelOption.TCP_NOTSENT_LOWAT)) {
            return (T) Long.valueOf(getTcpNotSentLowAt());
        }
        if (option.equals(EpollChannelOption.TCP_KEEPIDLE)) {
            return (T) Integer.valueOf(getTcpKeepIdle());
        }
        if (option.equals(EpollChannelOption.TCP_KEEPINTVL)) {
            return (T) Integer.valueOf(getTcpKeepIntvl());
        }
        if (option.equals(EpollChannelOption.TCP_KEEPCNT)) {
            return (T) Integer.valueOf(getTcpKeepCnt());
        }
        if (option.equals(EpollChannelOption.TCP_USER_TIMEOUT)) {
            return (T) Integer.valueOf(getTcpUserTimeout());
        }
        if (option.equals(EpollChannelOption.TCP_QUICKACK)) {
            return (T) Boolean.valueOf(isTcpQuickAck());
        }
        if (option.equals(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT)) {
            return (T) Boolean.valueOf(isIpBindAddressNoPort());
        }
        if (option.equals(EpollChannelOption.IP_TRANSPARENT)) {
            return (T) Boolean.valueOf(isIpTransparent());
        }
        if (option.equals(ChannelOption.TCP_FASTOPEN_CONNECT)) {
            return (T) Boolean.valueOf(isTcpFastOpenConnect());
        }
        if (option.equals(EpollChannelOption.SO_BUSY_POLL)) {
            return (T) Integer.valueOf(getSoBusyPoll());
        }
        return super.getOption(option);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);

        if (option.equals(SO_RCVBUF)) {
            setReceiveBufferSize((Integer) value);
        } else if (option.equals(SO_SNDBUF)) {
            setSendBufferSize((Integer) value);
        } else if (option.equals(TCP_NODELAY)) {
            setTcpNoDelay((Boolean) value);
        } else if (option.equals(SO_KEEPALIVE)) {
            setKeepAlive((Boolean) value);
        } else if (option.equals(SO_REUSEADDR)) {
            setReuseAddress((Boolean) value);
        } else if (option.equals(SO_LINGER)) {
            setSoLinger((Integer) value);
        } else if (option.equals(IP_TOS)) {
            setTrafficClass((Integer) value);
        } else if (option.equals(ALLOW_HALF_CLOSURE)) {
            setAllowHalfClosure((Boolean) value);
        } else if (option.equals(EpollChannelOption.TCP_CORK)) {
            setTcpCork((Boolean) value);
        } else if (option.equals(EpollChannelOption.TCP_NOTSENT_LOWAT)) {
            setTcpNotSentLowAt((Long) value);
        } else if (option.equals(EpollChannelOption.TCP_KEEPIDLE)) {
            setTcpKeepIdle((Integer) value);
        } else if (option.equals(EpollChannelOption.TCP_KEEPCNT)) {
            setTcpKeepCnt((Integer) value);
        } else if (option.equals(EpollChannelOption.TCP_KEEPINTVL)) {
            setTcpKeepIntvl((Integer) value);
        } else if (option.equals(EpollChannelOption.TCP_USER_TIMEOUT)) {
            setTcpUserTimeout((Integer) value);
        } else if (option.equals(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT)) {
            setIpBindAddressNoPort((Boolean) value);
        } else if (option.equals(EpollChannelOption.IP_TRANSPARENT)) {
            setIpTransparent((Boolean) value);
        } else if (option.equals(EpollChannelOption.TCP_QUICKACK)) {
            setTcpQuickAck((Boolean) value);
        } else if (option.equals(ChannelOption.TCP_FASTOPEN_CONNECT)) {
            setTcpFastOpenConnect((Boolean) value);
        } else if (option.equals(EpollChannelOption.SO_BUSY_POLL)) {
            setSoBusyPoll((Integer) value);
        } else {
            return super.setOption(option, value);
        }

        return true;
    }

    @Override
    public int getReceiveBufferSize() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.getReceiveBufferSize();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public int getSendBufferSize() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.getSendBufferSize();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public int getSoLinger() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.getSoLinger();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public int getTrafficClass() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.getTrafficClass();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public boolean isKeepAlive() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.isKeepAlive();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public boolean isReuseAddress() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.isReuseAddress();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public boolean isTcpNoDelay() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.isTcpNoDelay();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Get the {@code TCP_CORK} option on the socket. See {@code man 7 tcp} for more details.
     */
    public boolean isTcpCork() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.isTcpCork();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Get the {@code SO_BUSY_POLL} option on the socket. See {@code man 7 tcp} for more details.
     */
    public int getSoBusyPoll() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.getSoBusyPoll();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Get the {@code TCP_NOTSENT_LOWAT} option on the socket. See {@code man 7 tcp} for more details.
     * @return value is a uint32_t
     */
    public long getTcpNotSentLowAt() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.getTcpNotSentLowAt();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Get the {@code TCP_KEEPIDLE} option on the socket. See {@code man 7 tcp} for more details.
     */
    public int getTcpKeepIdle() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.getTcpKeepIdle();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Get the {@code TCP_KEEPINTVL} option on the socket. See {@code man 7 tcp} for more details.
     */
    public int getTcpKeepIntvl() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.getTcpKeepIntvl();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Get the {@code TCP_KEEPCNT} option on the socket. See {@code man 7 tcp} for more details.
     */
    public int getTcpKeepCnt() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.getTcpKeepCnt();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Get the {@code TCP_USER_TIMEOUT} option on the socket. See {@code man 7 tcp} for more details.
     */
    public int getTcpUserTimeout() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.getTcpUserTimeout();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public RelayEpollSocketChannelConfig setKeepAlive(boolean keepAlive) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setKeepAlive(keepAlive);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public RelayEpollSocketChannelConfig setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
        return this;
    }

    @Override
    public RelayEpollSocketChannelConfig setReceiveBufferSize(int receiveBufferSize) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setReceiveBufferSize(receiveBufferSize);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public RelayEpollSocketChannelConfig setReuseAddress(boolean reuseAddress) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setReuseAddress(reuseAddress);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public RelayEpollSocketChannelConfig setSendBufferSize(int sendBufferSize) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setSendBufferSize(sendBufferSize);
            calculateMaxBytesPerGatheringWrite();
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public RelayEpollSocketChannelConfig setSoLinger(int soLinger) {
        if (soLinger > 0) {
            // Belfry: the relay channel closes on its event loop without asking SO_LINGER first, so a
            // lingering close would block the event loop.
            throw new IllegalArgumentException(
                    "SO_LINGER must be 0 (close with a reset) or negative (off) on a relay channel, was " + soLinger);
        }
        try {
            ((RelayEpollSocketChannel) channel).socket.setSoLinger(soLinger);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public RelayEpollSocketChannelConfig setTcpNoDelay(boolean tcpNoDelay) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setTcpNoDelay(tcpNoDelay);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Set the {@code TCP_CORK} option on the socket. See {@code man 7 tcp} for more details.
     */
    public RelayEpollSocketChannelConfig setTcpCork(boolean tcpCork) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setTcpCork(tcpCork);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Set the {@code SO_BUSY_POLL} option on the socket. See {@code man 7 tcp} for more details.
     */
    public RelayEpollSocketChannelConfig setSoBusyPoll(int loopMicros) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setSoBusyPoll(loopMicros);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Set the {@code TCP_NOTSENT_LOWAT} option on the socket. See {@code man 7 tcp} for more details.
     * @param tcpNotSentLowAt is a uint32_t
     */
    public RelayEpollSocketChannelConfig setTcpNotSentLowAt(long tcpNotSentLowAt) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setTcpNotSentLowAt(tcpNotSentLowAt);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    @Override
    public RelayEpollSocketChannelConfig setTrafficClass(int trafficClass) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setTrafficClass(trafficClass);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Set the {@code TCP_KEEPIDLE} option on the socket. See {@code man 7 tcp} for more details.
     */
    public RelayEpollSocketChannelConfig setTcpKeepIdle(int seconds) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setTcpKeepIdle(seconds);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Set the {@code TCP_KEEPINTVL} option on the socket. See {@code man 7 tcp} for more details.
     */
    public RelayEpollSocketChannelConfig setTcpKeepIntvl(int seconds) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setTcpKeepIntvl(seconds);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Set the {@code TCP_KEEPCNT} option on the socket. See {@code man 7 tcp} for more details.
     */
    public RelayEpollSocketChannelConfig setTcpKeepCnt(int probes) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setTcpKeepCnt(probes);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Set the {@code TCP_USER_TIMEOUT} option on the socket. See {@code man 7 tcp} for more details.
     */
    public RelayEpollSocketChannelConfig setTcpUserTimeout(int milliseconds) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setTcpUserTimeout(milliseconds);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Returns {@code true} if the IP_BIND_ADDRESS_NO_PORT option is set.
     */
    public boolean isIpBindAddressNoPort() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.isIpBindAddressNoPort();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Set the IP_BIND_ADDRESS_NO_PORT option on the underlying Channel.
     *
     * Be aware this method needs be called before {@link RelayEpollSocketChannel#bind(java.net.SocketAddress)} to have
     * any affect.
     */
    public RelayEpollSocketChannelConfig setIpBindAddressNoPort(boolean ipBindAddressNoPort) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setIpBindAddressNoPort(ipBindAddressNoPort);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Returns {@code true} if <a href="https://man7.org/linux/man-pages/man7/ip.7.html">IP_TRANSPARENT</a> is enabled,
     * {@code false} otherwise.
     */
    public boolean isIpTransparent() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.isIpTransparent();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * If {@code true} is used <a href="https://man7.org/linux/man-pages/man7/ip.7.html">IP_TRANSPARENT</a> is enabled,
     * {@code false} for disable it. Default is disabled.
     */
    public RelayEpollSocketChannelConfig setIpTransparent(boolean transparent) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setIpTransparent(transparent);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Set the {@code TCP_QUICKACK} option on the socket.
     * See <a href="https://linux.die.net//man/7/tcp">TCP_QUICKACK</a>
     * for more details.
     */
    public RelayEpollSocketChannelConfig setTcpQuickAck(boolean quickAck) {
        try {
            ((RelayEpollSocketChannel) channel).socket.setTcpQuickAck(quickAck);
            return this;
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Returns {@code true} if <a href="https://linux.die.net//man/7/tcp">TCP_QUICKACK</a> is enabled,
     * {@code false} otherwise.
     */
    public boolean isTcpQuickAck() {
        try {
            return ((RelayEpollSocketChannel) channel).socket.isTcpQuickAck();
        } catch (IOException e) {
            throw new ChannelException(e);
        }
    }

    /**
     * Enables client TCP fast open. {@code TCP_FASTOPEN_CONNECT} normally
     * requires Linux kernel 4.11 or later, so instead we use the traditional fast open
     * client socket mechanics that work with kernel 3.6 and later. See this
     * <a href="https://lwn.net/Articles/508865/">LWN article</a> for more info.
     */
    public RelayEpollSocketChannelConfig setTcpFastOpenConnect(boolean fastOpenConnect) {
        if (fastOpenConnect) {
            // Belfry: the relay channel connects without TCP fast open.
            throw new UnsupportedOperationException("TCP_FASTOPEN_CONNECT is not supported on a relay channel");
        }
        return this;
    }

    /**
     * Returns {@code true} if TCP fast open is enabled, {@code false} otherwise.
     */
    public boolean isTcpFastOpenConnect() {
        return false; // Belfry: not supported, see setTcpFastOpenConnect
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
    @Deprecated
    public RelayEpollSocketChannelConfig setWriteBufferHighWaterMark(int writeBufferHighWaterMark) {
        super.setWriteBufferHighWaterMark(writeBufferHighWaterMark);
        return this;
    }

    @Override
    @Deprecated
    public RelayEpollSocketChannelConfig setWriteBufferLowWaterMark(int writeBufferLowWaterMark) {
        super.setWriteBufferLowWaterMark(writeBufferLowWaterMark);
        return this;
    }

    @Override
    public RelayEpollSocketChannelConfig setWriteBufferWaterMark(WriteBufferWaterMark writeBufferWaterMark) {
        super.setWriteBufferWaterMark(writeBufferWaterMark);
        return this;
    }

    @Override
    public RelayEpollSocketChannelConfig setMessageSizeEstimator(MessageSizeEstimator estimator) {
        super.setMessageSizeEstimator(estimator);
        return this;
    }

    private void calculateMaxBytesPerGatheringWrite() {
        // Multiply by 2 to give some extra space in case the OS can process write data faster than we can provide.
        int newSendBufferSize = getSendBufferSize() << 1;
        if (newSendBufferSize > 0) {
            setMaxBytesPerGatheringWrite(newSendBufferSize);
        }
    }
}
