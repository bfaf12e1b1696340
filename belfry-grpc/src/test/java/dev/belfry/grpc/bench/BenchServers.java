package dev.belfry.grpc.bench;

import dev.belfry.grpc.server.HealthService;
import dev.belfry.grpc.test.EchoGrpc;
import dev.belfry.grpc.test.EchoReply;
import dev.belfry.grpc.test.EchoRequest;
import dev.belfry.netty.dns.TestDnsServer;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark's backends: three grpc-java servers on {@code 127.0.0.1}, {@code 127.0.0.2} and
 * {@code 127.0.0.3}, all on one port (so a DNS answer, which carries addresses and no port, can name
 * any of them), each with the {@code Echo} service and {@code grpc.health.v1} health; the loopback
 * DNS server of {@code belfry-netty}'s tests answering {@link #DNS_NAME}; and a line-based control
 * port on which a client JVM slows, kills or un-readies a server in the middle of its run and reads
 * back when that server last (or first) got a call.
 *
 * <p>Commands, one per line, each answered by one line ({@code ok ...} or {@code error ...}):
 *
 * <pre>
 * reset                        restart killed servers, no delay, all SERVING, DNS back to .1 and .2
 * slow I MILLIS                server I answers each Echo call MILLIS later
 * kill I                       server I crashes: its connections are reset with no GOAWAY, as when
 *                              its process dies, and it stops listening
 * health I serving|not_serving server I's health (""), pushed to Watch streams; marks the time
 * dns TTL IP,IP... WATCH       the DNS answer changes; marks the time for server WATCH
 * last I                       ms from the mark to server I's last call (negative: none since)
 * first I                      ms from the mark to server I's first call since (-1: none yet)
 * calls                        calls per server since start
 * </pre>
 */
final class BenchServers implements AutoCloseable {
    static final String DNS_NAME = "svc.bench.test";
    static final int COUNT = 3;

    private final Backend[] backends = new Backend[COUNT];
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "bench-delays");
        thread.setDaemon(true);
        return thread;
    });
    // The servers' own event loops (NIO, so that CrashableServerChannel can keep its children).
    private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final TestDnsServer dns;
    private final ServerSocket control;
    private final Thread acceptor;
    private final int port;
    private final long ttlSeconds;

    BenchServers(long dnsTtlSeconds) throws IOException, InterruptedException {
        this.ttlSeconds = dnsTtlSeconds;
        this.port = startAll();
        this.dns = TestDnsServer.start();
        dns.set(DNS_NAME, dnsTtlSeconds, ip(0), ip(1));
        this.control = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::accept, "bench-control");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static String ip(int index) {
        return "127.0.0." + (index + 1);
    }

    /** The port every server listens on. */
    int port() {
        return port;
    }

    int controlPort() {
        return control.getLocalPort();
    }

    InetSocketAddress dnsAddress() {
        return dns.address();
    }

    private int startAll() throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            int chosen = 0;
            try {
                for (int i = 0; i < COUNT; i++) {
                    backends[i] = new Backend(i, chosen);
                    chosen = backends[i].port();
                }
                return chosen;
            } catch (IOException e) {
                // The port the first server got is taken on another loopback address: try another.
                last = e;
                for (Backend backend : backends) {
                    if (backend != null) {
                        backend.stop();
                    }
                }
            }
        }
        throw new IOException("no port free on 127.0.0.1, .2 and .3 at once after 20 tries", last);
    }

    private void accept() {
        while (!control.isClosed()) {
            try {
                Socket socket = control.accept();
                Thread serve = new Thread(() -> serve(socket), "bench-control-conn");
                serve.setDaemon(true);
                serve.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket;
                BufferedReader in =
                        new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                PrintWriter out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                String answer;
                try {
                    answer = "ok " + command(line.trim().split("\\s+", -1));
                } catch (RuntimeException | IOException e) {
                    answer = "error " + e;
                }
                out.println(answer);
            }
        } catch (IOException e) {
            // The client JVM went away: nothing to answer.
        }
    }

    private synchronized String command(String[] words) throws IOException {
        long now = System.nanoTime();
        return switch (words[0]) {
            case "reset" -> {
                for (int i = 0; i < COUNT; i++) {
                    if (backends[i].stopped) {
                        backends[i] = new Backend(i, port);
                    }
                    backends[i].delayMillis = 0;
                    backends[i].health.setStatus("", true);
                }
                dns.set(DNS_NAME, ttlSeconds, ip(0), ip(1));
                yield "";
            }
            case "slow" -> {
                backends[Integer.parseInt(words[1])].delayMillis = Integer.parseInt(words[2]);
                yield "";
            }
            case "kill" -> {
                backends[Integer.parseInt(words[1])].crash();
                yield "";
            }
            case "health" -> {
                Backend backend = backends[Integer.parseInt(words[1])];
                backend.mark(now);
                backend.health.setStatus("", words[2].equals("serving"));
                yield "";
            }
            case "dns" -> {
                Backend watched = backends[Integer.parseInt(words[3])];
                watched.mark(now);
                dns.set(DNS_NAME, Long.parseLong(words[1]), words[2].split(",", -1));
                yield "";
            }
            case "last" -> {
                Backend backend = backends[Integer.parseInt(words[1])];
                yield Double.toString((backend.lastCall.get() - backend.markNanos) / 1e6);
            }
            case "first" -> {
                Backend backend = backends[Integer.parseInt(words[1])];
                long first = backend.firstSinceMark.get();
                yield Double.toString(first == 0 ? -1 : (first - backend.markNanos) / 1e6);
            }
            case "calls" -> {
                StringBuilder counts = new StringBuilder();
                for (Backend backend : backends) {
                    counts.append(backend.calls.get()).append(' ');
                }
                yield counts.toString().trim();
            }
            default -> throw new IllegalArgumentException("unknown command '" + words[0] + "'");
        };
    }

    @Override
    public void close() throws InterruptedException, IOException {
        control.close();
        acceptor.join(5000);
        for (Backend backend : backends) {
            if (backend != null) {
                backend.stop();
            }
        }
        dns.close();
        timer.shutdownNow();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** One grpc-java server and what it counts. */
    private final class Backend {
        final HealthService health = new HealthService();
        final AtomicLong calls = new AtomicLong();
        final AtomicLong lastCall = new AtomicLong();
        final AtomicLong firstSinceMark = new AtomicLong();
        final Server server;
        final Set<Channel> connections = ConcurrentHashMap.newKeySet();
        volatile long markNanos = System.nanoTime();
        volatile int delayMillis;
        volatile boolean stopped;

        Backend(int index, int port) throws IOException {
            Server built = NettyServerBuilder.forAddress(new InetSocketAddress(ip(index), port))
                    // A killed server comes back on the same port at the next reset.
                    .withOption(ChannelOption.SO_REUSEADDR, true)
                    .bossEventLoopGroup(boss)
                    .workerEventLoopGroup(workers)
                    .channelFactory(() -> new CrashableServerChannel(connections))
                    .directExecutor()
                    .addService(new Echo(this, "s" + index))
                    .addService(health.bindableService())
                    .build();
            this.server = built.start();
        }

        int port() {
            return server.getPort();
        }

        void mark(long now) {
            markNanos = now;
            firstSinceMark.set(0);
        }

        void called() {
            long now = System.nanoTime();
            calls.incrementAndGet();
            lastCall.set(now);
            firstSinceMark.compareAndSet(0, now);
        }

        /**
         * Closes every connection under the HTTP/2 layer (no GOAWAY, no RST_STREAM: only a TCP reset,
         * as a dead process leaves), then stops the server so new connections are refused.
         */
        void crash() {
            for (Channel connection : connections) {
                connection.config().setOption(ChannelOption.SO_LINGER, 0);
                connection.unsafe().close(connection.voidPromise());
            }
            stop();
        }

        void stop() {
            stopped = true;
            server.shutdownNow();
            try {
                server.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A server socket channel that keeps the connections it accepts, so that a crash can reset them. */
    private static final class CrashableServerChannel extends NioServerSocketChannel {
        private final Set<Channel> connections;

        CrashableServerChannel(Set<Channel> connections) {
            this.connections = connections;
        }

        @Override
        protected int doReadMessages(List<Object> accepted) throws Exception {
            int before = accepted.size();
            int read = super.doReadMessages(accepted);
            for (int i = before; i < accepted.size(); i++) {
                Channel connection = (Channel) accepted.get(i);
                connections.add(connection);
                connection.closeFuture().addListener(closed -> connections.remove(connection));
            }
            return read;
        }
    }

    /** The unary {@code Say} call of the test {@code Echo} service: the text back, maybe later. */
    private final class Echo extends EchoGrpc.EchoImplBase {
        private final Backend backend;
        private final String name;

        Echo(Backend backend, String name) {
            this.backend = backend;
            this.name = name;
        }

        @Override
        public void say(EchoRequest request, StreamObserver<EchoReply> responses) {
            backend.called();
            EchoReply reply = EchoReply.newBuilder()
                    .setText(request.getText())
                    .setServer(name)
                    .build();
            int delay = backend.delayMillis;
            if (delay <= 0) {
                responses.onNext(reply);
                responses.onCompleted();
                return;
            }
            timer.schedule(
                    () -> {
                        try {
                            responses.onNext(reply);
                            responses.onCompleted();
                        } catch (RuntimeException cancelled) {
                            // The client gave up or the server was killed meanwhile: nobody to answer.
                        }
                    },
                    delay,
                    TimeUnit.MILLISECONDS);
        }
    }
}
