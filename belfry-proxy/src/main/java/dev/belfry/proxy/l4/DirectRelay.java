package dev.belfry.proxy.l4;

import dev.belfry.proxy.config.Addresses;
import dev.belfry.proxy.config.ListenerConfig;
import dev.belfry.proxy.config.ProxyProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.DirectSocket;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.util.concurrent.FastThreadLocal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and its backend connection, relayed on Netty's epoll event loop without
 * channels: two {@link DirectSocket}s, each in the epoll set once, edge-triggered, for its whole
 * life. What it does is what {@link Relay} does over channels (the same access-log line, counters,
 * limits and semantics); what it saves per connection is the pipelines, promises, outbound buffers
 * and read allocators of two channels, and the {@code epoll_ctl} calls and event-loop tasks that
 * come with them.
 *
 * <p><b>Bytes.</b> A side is read into the event loop's scratch buffer (64 KiB, one per thread) and
 * written straight to the other side. What the other side cannot take at once is held for it (in a
 * pooled buffer) and written when the kernel reports it writable again; while more than {@value
 * #HOLD_LIMIT} bytes are held for a side, its peer is not read. So a slow reader holds at most that
 * plus one read per direction, and bytes go out whole and in order. The client is not read while
 * its backend connects: its first bytes wait in the kernel and are read the moment the backend is
 * connected, and written straight to it (after the PROXY header, if the cluster sends one).
 *
 * <p><b>Reading, edge-triggered.</b> A side is read until a read comes back short (the kernel
 * reports new bytes as a new event) or, once the peer has shut its side, until the end of the
 * stream; at most {@value #READS_PER_TURN} reads in one go, then the rest in a task of its own, so
 * that one fast stream does not starve the event loop's other connections.
 *
 * <p><b>Endings.</b> As in {@link Relay}: a FIN read from one side is passed on as a shutdown of the
 * other side's output once everything held for it is written; once both directions have ended, both
 * sockets close. A reset or an I/O error on one side is passed on as a reset of the other. The idle
 * timeout, a drain's force close and the close of the proxy close both sides at once.
 *
 * <p>All of it runs on one event loop and takes no lock.
 */
final class DirectRelay extends RelayBase {
    private static final Logger LOG = LoggerFactory.getLogger(DirectRelay.class);
    /** Bytes held for one side past which its peer is not read. */
    static final int HOLD_LIMIT = 64 * 1024;

    /** Bytes one read takes at most: the scratch buffer's size. */
    static final int READ_SIZE = 64 * 1024;

    /** Reads of one side in one go before the rest waits for a task of its own. */
    static final int READS_PER_TURN = 16;

    private static final FastThreadLocal<Scratch> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected Scratch initialValue() {
            return new Scratch();
        }
    };

    private final EventLoop loop;
    private final Side front;
    private final Side back;

    private DirectRelay(
            RelayEngine engine, Listener listener, ListenerConfig config, DirectSocket socket, EventLoop loop) {
        super(engine, listener, config, address(socket.remoteAddress()), address(socket.localAddress()));
        this.loop = loop;
        this.front = new Side(true, socket);
        this.back = new Side(false, null);
        front.other = back;
        back.other = front;
    }

    /**
     * Takes a just-accepted client socket: relays it on {@code loop}, or closes it at once if the
     * engine is not accepting, the descriptor budget is spent or its listener is full.
     */
    static void accept(RelayEngine engine, Listener listener, DirectSocket socket, EventLoop loop) {
        if (!admitted(engine, listener)) {
            socket.close();
            return;
        }
        DirectRelay relay = new DirectRelay(engine, listener, listener.config(), socket, loop);
        engine.opened(relay);
        if (loop.inEventLoop()) {
            relay.start();
            return;
        }
        try {
            loop.execute(relay::start);
        } catch (RejectedExecutionException e) {
            relay.close("the event loop has shut down");
        }
    }

    private void start() {
        DirectSocket socket = front.socket;
        if (closed || socket == null) {
            return;
        }
        try {
            socket.register(loop, front);
        } catch (IOException | RuntimeException e) {
            close("cannot watch the client socket: " + describe(e));
            return;
        }
        armIdleTimer();
        connect();
    }

    @Override
    EventLoop eventLoop() {
        return loop;
    }

    @Override
    boolean backendReadingPaused() {
        return back.paused;
    }

    @Override
    long bytesHeldForClient() {
        return front.held();
    }

    @Override
    ConnectRequest connectRequest() {
        return ConnectRequest.direct(loop, client, destination);
    }

    @Override
    void attach(BackendConnection connection, ProxyProtocol send) {
        DirectSocket socket = connection.socket();
        if (socket == null) {
            connection.close();
            close("the backend connection is not a direct socket");
            return;
        }
        back.socket = socket;
        boolean missed = socket.claim(back);
        if (send != ProxyProtocol.NONE) {
            ByteBuf header;
            try {
                header = encodedHeader(send);
            } catch (RuntimeException e) {
                close("cannot encode the PROXY protocol header: " + describe(e));
                return;
            }
            back.prepend(header);
        }
        if (back.held() > 0 && !back.writeHeld()) {
            return; // closed on a write error
        }
        if (!closed && front.paused) {
            front.paused = false;
            front.readToOther();
        }
        if (!closed && missed) {
            back.peerShut = true; // what the kernel reported is unknown: read to the end of it
            back.readToOther();
        }
    }

    private ByteBuf encodedHeader(ProxyProtocol version) {
        // Only for clusters that send the header: Netty's encoder, run in a channel of its own.
        EmbeddedChannel encoder = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        try {
            encoder.writeOutbound(Relay.header(version, client, destination));
            ByteBuf encoded = encoder.readOutbound();
            if (encoded == null) {
                throw new IllegalStateException("the PROXY protocol encoder produced nothing");
            }
            return encoded;
        } finally {
            encoder.finishAndReleaseAll();
        }
    }

    // ---- endings -----------------------------------------------------------------------------

    /**
     * Passes a FIN on to {@code to}, whose held bytes are all written: shuts its output, or, if the
     * other direction has already ended, closes the connection (both peers have sent everything and
     * read to the end; closing sends the same FIN).
     */
    private void passFin(Side to) {
        DirectSocket socket = to.socket;
        if (socket == null || closed || to.outputShut) {
            return; // passed on already (or no backend yet, which cannot be: the client is not read until then)
        }
        if (to.held() > 0) {
            to.finAfterHeld = true;
            return;
        }
        to.outputShut = true;
        if (to.other().outputShut) {
            close("done");
            return;
        }
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            abort(to.name() + " error: " + describe(e), to.other());
        }
    }

    /**
     * Ends the connection after {@code failed}'s peer failed (a reset, a read or write error):
     * {@code failed}'s other side, {@code peer}, is reset rather than closed, so that its end sees
     * the stream was cut short instead of a clean end after a truncated stream.
     */
    private void abort(String reason, Side peer) {
        if (closed) {
            return;
        }
        DirectSocket socket = peer.socket;
        if (socket != null) {
            socket.resetOnClose();
        }
        close(reason);
    }

    @Override
    void close(String reason) {
        if (!beginClose(reason)) {
            return;
        }
        front.close();
        back.close();
        finishClose(reason, front.bytesRead, back.bytesRead);
    }

    // ---- the sides ---------------------------------------------------------------------------

    /**
     * One side of the relay, the client's or the backend's: reads its socket into the other side
     * and holds what the other side's socket cannot take yet.
     */
    private final class Side implements DirectSocket.Handler {
        private final boolean isClient;
        // This side's socket: the client's from the start, the backend's once it is connected.
        private @Nullable DirectSocket socket;
        private @Nullable Side other;
        // Bytes read from the other side and not yet written to this one, in order.
        private @Nullable ByteBuf held;
        // Reading this side waits until the other side has written what is held for it.
        private boolean paused;
        // This side's peer sent its FIN (read to the end of the stream).
        private boolean inputEnded;
        // The kernel reported the peer's FIN (or an error): read to the end, not to a short read.
        private boolean peerShut;
        // A FIN is to be passed on to this side once what is held for it is written.
        private boolean finAfterHeld;
        // A FIN was passed on to this side.
        private boolean outputShut;
        // Bytes read from this side.
        private long bytesRead;

        Side(boolean isClient, @Nullable DirectSocket socket) {
            this.isClient = isClient;
            this.socket = socket;
        }

        Side other() {
            Side side = other;
            if (side == null) {
                throw new IllegalStateException("a relay side used before both were made");
            }
            return side;
        }

        String name() {
            return isClient ? "client" : "backend";
        }

        int held() {
            ByteBuf buf = held;
            return buf == null ? 0 : buf.readableBytes();
        }

        @Override
        public void ready(DirectSocket ignored, boolean readable, boolean writable, boolean hangup) {
            if (closed) {
                return;
            }
            try {
                if (writable && held() > 0 && !writeHeld()) {
                    return;
                }
                if (hangup) {
                    peerShut = true;
                }
                if (readable) {
                    readToOther();
                }
            } catch (RuntimeException e) {
                // A defect, not the network's doing: end this connection, keep the event loop going.
                LOG.error("relay of {} failed; closing it", Addresses.format(client), e);
                abort("relay failure: " + describe(e), other());
            }
        }

        /** Reads this side and writes what it reads to the other side (or holds it there). */
        void readToOther() {
            DirectSocket in = socket;
            if (in == null || inputEnded || closed) {
                return;
            }
            Side to = other();
            if (to.socket == null) {
                // The client while its backend connects: its bytes wait in the kernel, and the
                // connect resumes reading it, so they are copied once, straight to the backend.
                paused = true;
                return;
            }
            Scratch scratch = SCRATCH.get();
            for (int reads = 0; ; reads++) {
                if (to.held() >= HOLD_LIMIT) {
                    paused = true; // resumed once `to` has written what it holds
                    return;
                }
                if (reads == READS_PER_TURN) {
                    loop.execute(this::readToOther); // the rest later: other connections go first
                    return;
                }
                int n;
                try {
                    n = in.read(scratch.address, READ_SIZE);
                } catch (IOException e) {
                    abort(name() + " error: " + describe(e), to);
                    return;
                }
                if (n == 0) {
                    return; // drained: the kernel reports the next bytes
                }
                if (n < 0) {
                    inputEnded = true;
                    passFin(to);
                    return;
                }
                lastRead = clock.nanoTime();
                bytesRead += n;
                BackendStats stats = backend;
                if (stats != null) {
                    if (isClient) {
                        stats.sent(n);
                    } else {
                        stats.received(n);
                    }
                }
                if (!to.take(scratch, n)) {
                    return; // closed on a write error
                }
                if (n < READ_SIZE && !peerShut) {
                    return; // a short read took all there was: the kernel reports the next bytes
                }
            }
        }

        /**
         * Writes the first {@code n} bytes of {@code scratch} to this side, holding what the socket
         * does not take (everything, while it is connecting or already holds bytes). False if the
         * relay closed on a write error.
         */
        boolean take(Scratch scratch, int n) {
            DirectSocket out = socket;
            int written = 0;
            if (out != null && held() == 0) {
                try {
                    written = out.write(scratch.address, n);
                } catch (IOException e) {
                    abort(name() + " error: " + describe(e), other());
                    return false;
                }
            }
            if (written < n) {
                ByteBuf buf = held;
                if (buf == null) {
                    buf = ByteBufAllocator.DEFAULT.directBuffer(Math.max(n - written, 8 * 1024));
                    held = buf;
                }
                ByteBuffer source = scratch.buffer.duplicate();
                source.position(written).limit(n);
                buf.writeBytes(source);
            }
            return true;
        }

        /** Puts {@code first} ahead of what is held for this side; takes ownership of it. */
        void prepend(ByteBuf first) {
            ByteBuf buf = held;
            if (buf == null) {
                held = first;
                return;
            }
            ByteBuf both = ByteBufAllocator.DEFAULT.directBuffer(first.readableBytes() + buf.readableBytes());
            both.writeBytes(first).writeBytes(buf);
            first.release();
            buf.release();
            held = both;
        }

        /**
         * Writes what is held for this side until the socket takes no more; once all of it is
         * written, passes on a FIN that waited for it and resumes reading the other side. False if
         * the relay closed on a write error.
         */
        boolean writeHeld() {
            ByteBuf buf = held;
            DirectSocket out = socket;
            if (buf == null || out == null) {
                return true;
            }
            try {
                while (buf.isReadable()) {
                    int length = buf.readableBytes();
                    int written;
                    if (buf.hasMemoryAddress()) {
                        written = out.write(buf.memoryAddress() + buf.readerIndex(), length);
                    } else {
                        Scratch scratch = SCRATCH.get();
                        int chunk = Math.min(length, READ_SIZE);
                        buf.getBytes(
                                buf.readerIndex(), scratch.buffer.duplicate().limit(chunk));
                        written = out.write(scratch.address, chunk);
                        length = chunk;
                    }
                    buf.skipBytes(written);
                    if (written < length) {
                        return true; // the kernel reports when it can take more
                    }
                }
            } catch (IOException e) {
                abort(name() + " error: " + describe(e), other());
                return false;
            }
            held = null;
            buf.release();
            if (finAfterHeld) {
                finAfterHeld = false;
                passFin(this);
            }
            Side from = other();
            if (!closed && from.paused) {
                from.paused = false;
                from.readToOther();
            }
            return !closed;
        }

        void close() {
            ByteBuf buf = held;
            held = null;
            if (buf != null) {
                buf.release();
            }
            DirectSocket open = socket;
            if (open != null) {
                open.close();
            }
        }
    }

    /** The event loop's read buffer: native memory shared by every relay on that thread. */
    private static final class Scratch {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(READ_SIZE);
        final long address = io.netty.channel.unix.Buffer.memoryAddress(buffer);
    }
}
