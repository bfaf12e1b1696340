/*
 * The cost floor of a TCP relay on the JVM, for bench/compare.sh (target `floor`). Not part of
 * Belfry and not a proxy: one backend, no limits, timeouts, balancing, health, logging or PROXY
 * protocol. It shows what a new proxied connection costs when a relay runs on Netty's epoll event
 * loop (Netty 4.2's IoHandle registration) with no Netty Channel, pipeline or promise: per
 * connection, accept4, one socket and connect, TCP_NODELAY on both sockets, one epoll_ctl ADD per
 * socket (edge-triggered, read and write interest set once), the reads and writes, a shutdown to
 * pass a FIN on, and the closes (the descriptors are closed before their registrations are
 * cancelled, so no EPOLL_CTL_DEL). Bytes are relayed through one direct buffer of the loop; bytes a
 * side cannot take yet are kept for it, and reading from its peer pauses until they are written.
 *
 * It lives in Netty's package because LinuxSocket is package-private. Compiled and started by
 * bench/compare.sh against Belfry's jar, which carries Netty:
 *   javac -d DIR -cp belfry.jar bench/floor/FloorRelay.java
 *   java -cp DIR:belfry.jar io.netty.channel.epoll.FloorRelay LISTEN_PORT BACKEND_PORT
 */
package io.netty.channel.epoll;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.unix.Buffer;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;

public final class FloorRelay {
    private static final int BUFFER = 64 * 1024;
    private static final EpollIoOps SOCKET_OPS = EpollIoOps.EPOLLET
            .with(EpollIoOps.EPOLLIN)
            .with(EpollIoOps.EPOLLOUT)
            .with(EpollIoOps.EPOLLRDHUP);

    private final IoEventLoop loop;
    private final InetSocketAddress backend;
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(BUFFER);
    private final long scratchAddress = Buffer.memoryAddress(scratch);
    private final byte[] acceptedAddress = new byte[26];

    private FloorRelay(IoEventLoop loop, InetSocketAddress backend) {
        this.loop = loop;
        this.backend = backend;
    }

    private final class Listener implements EpollIoHandle {
        private final LinuxSocket socket;

        Listener(LinuxSocket socket) {
            this.socket = socket;
        }

        @Override
        public FileDescriptor fd() {
            return socket;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            while (true) {
                int fd;
                try {
                    fd = socket.accept(acceptedAddress);
                } catch (IOException e) {
                    System.err.println("floor relay: accept failed: " + e);
                    return;
                }
                if (fd < 0) {
                    return; // nothing more to accept (edge-triggered: drained)
                }
                Pair.open(FloorRelay.this, new LinuxSocket(fd));
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** A client connection and its backend connection. */
    private static final class Pair {
        private final Side client;
        private final Side server;
        private boolean closed;

        private Pair(FloorRelay relay, LinuxSocket clientSocket, LinuxSocket serverSocket) {
            client = new Side(relay, this, clientSocket, false);
            server = new Side(relay, this, serverSocket, true);
            client.peer = server;
            server.peer = client;
        }

        static void open(FloorRelay relay, LinuxSocket clientSocket) {
            LinuxSocket serverSocket = null;
            try {
                clientSocket.setTcpNoDelay(true);
                serverSocket = LinuxSocket.newSocketStream(false);
                serverSocket.setTcpNoDelay(true);
                Pair pair = new Pair(relay, clientSocket, serverSocket);
                pair.client.register();
                pair.server.register();
                if (serverSocket.connect(relay.backend)) {
                    pair.server.connected();
                }
            } catch (IOException | RuntimeException e) {
                closeQuietly(clientSocket);
                if (serverSocket != null) {
                    closeQuietly(serverSocket);
                }
            }
        }

        void close() {
            if (!closed) {
                closed = true;
                client.close();
                server.close();
            }
        }
    }

    /** One socket of a pair: reads go to its peer, and bytes for it wait in {@code pending}. */
    private static final class Side implements EpollIoHandle {
        private final FloorRelay relay;
        private final Pair pair;
        private final LinuxSocket socket;
        private Side peer;
        private IoRegistration registration;
        private boolean connecting;
        private boolean ended; // read end-of-stream from this socket
        private boolean finAfterPending; // pass a FIN on to this socket once pending is written
        private byte[] pending;
        private int pendingLength;

        Side(FloorRelay relay, Pair pair, LinuxSocket socket, boolean connecting) {
            this.relay = relay;
            this.pair = pair;
            this.socket = socket;
            this.connecting = connecting;
        }

        void register() {
            // On the event loop, registration completes at once.
            registration = relay.loop.register(this).getNow();
            registration.submit(SOCKET_OPS);
        }

        @Override
        public FileDescriptor fd() {
            return socket;
        }

        @Override
        public void handle(IoRegistration ignored, IoEvent event) {
            if (pair.closed) {
                return;
            }
            EpollIoOps ops = ((EpollIoEvent) event).ops();
            try {
                if (connecting) {
                    if (!ops.contains(EpollIoOps.EPOLLOUT) && !ops.contains(EpollIoOps.EPOLLERR)) {
                        return;
                    }
                    if (!socket.finishConnect()) {
                        return;
                    }
                    connected();
                } else if (ops.contains(EpollIoOps.EPOLLOUT) && pendingLength > 0) {
                    writePending();
                }
                if (!pair.closed
                        && (ops.contains(EpollIoOps.EPOLLIN)
                                || ops.contains(EpollIoOps.EPOLLRDHUP)
                                || ops.contains(EpollIoOps.EPOLLERR))) {
                    readToPeer();
                }
            } catch (IOException | RuntimeException e) {
                pair.close(); // a reset, a refused connect, a write to a closed peer
            }
        }

        void connected() throws IOException {
            connecting = false;
            writePending();
            if (!pair.closed && !peer.ended) {
                peer.readToPeer(); // the client's bytes read while this socket was connecting
            }
        }

        void readToPeer() throws IOException {
            while (!ended && !pair.closed) {
                boolean hold = peer.connecting || peer.pendingLength > 0;
                if (hold && peer.pendingLength >= BUFFER) {
                    return; // paused until the peer has taken what waits for it
                }
                int n = socket.recvAddress(relay.scratchAddress, 0, BUFFER);
                if (n == 0) {
                    return; // drained (edge-triggered)
                }
                if (n < 0) {
                    ended = true;
                    if (peer.ended) {
                        pair.close();
                    } else if (hold) {
                        peer.finAfterPending = true;
                    } else {
                        peer.socket.shutdown(false, true);
                    }
                    return;
                }
                if (hold) {
                    peer.keep(0, n);
                    continue;
                }
                int written = peer.socket.sendAddress(relay.scratchAddress, 0, n);
                if (written < n) {
                    peer.keep(written, n);
                    return;
                }
            }
        }

        /** Keeps bytes {@code from} to {@code to} of the scratch buffer for this socket. */
        void keep(int from, int to) {
            int length = to - from;
            if (pending == null) {
                pending = new byte[Math.max(length, 1024)];
            } else if (pendingLength + length > pending.length) {
                pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + length));
            }
            relay.scratch.clear().position(from).limit(to);
            relay.scratch.get(pending, pendingLength, length);
            relay.scratch.clear();
            pendingLength += length;
        }

        void writePending() throws IOException {
            int done = 0;
            while (done < pendingLength) {
                int chunk = Math.min(BUFFER, pendingLength - done);
                relay.scratch.clear();
                relay.scratch.put(pending, done, chunk);
                relay.scratch.clear();
                int written = socket.sendAddress(relay.scratchAddress, 0, chunk);
                done += written;
                if (written < chunk) {
                    break;
                }
            }
            if (done > 0) {
                System.arraycopy(pending, done, pending, 0, pendingLength - done);
                pendingLength -= done;
            }
            if (pendingLength == 0) {
                if (finAfterPending) {
                    finAfterPending = false;
                    socket.shutdown(false, true);
                }
                if (!peer.ended) {
                    peer.readToPeer(); // the peer's reads paused on these bytes
                }
            }
        }

        @Override
        public void close() {
            closeQuietly(socket);
            if (registration != null) {
                registration.cancel(); // after the close: the kernel already dropped it from the set
            }
        }
    }

    private static void closeQuietly(LinuxSocket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing: nothing to do about it
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: FloorRelay LISTEN_PORT BACKEND_PORT (both on 127.0.0.1)");
            System.exit(2);
        }
        int listenPort = Integer.parseInt(args[0]);
        InetSocketAddress backend = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1]));
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        IoEventLoop loop = group.next();
        FloorRelay relay = new FloorRelay(loop, backend);
        loop.submit(() -> {
                    LinuxSocket listening = LinuxSocket.newSocketStream(false);
                    listening.setReuseAddress(true);
                    listening.bind(new InetSocketAddress("127.0.0.1", listenPort));
                    listening.listen(4096);
                    IoRegistration registration = loop.register(relay.new Listener(listening)).getNow();
                    registration.submit(EpollIoOps.EPOLLET.with(EpollIoOps.EPOLLIN));
                    return null;
                })
                .sync();
        System.err.println("floor relay: 127.0.0.1:" + listenPort + " -> " + backend);
        group.terminationFuture().sync(); // runs until killed
    }
}
