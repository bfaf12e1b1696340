package dev.belfry.channel.socket;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.channel.MemberConnector;
import dev.belfry.channel.PoolMember;
import dev.belfry.channel.PoolStatus;
import dev.belfry.channel.WarmPool;
import dev.belfry.netty.transport.Transport;
import dev.belfry.test.NoNettyLeaks;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A pool over a {@code unix:} target on each transport available here: a line server on a real
 * unix domain socket, and a connector whose members are Netty channels speaking lines (health is a
 * {@code PING} answered {@code PONG}).
 */
@ExtendWith(NoNettyLeaks.class)
@Timeout(60)
class UnixSocketPoolTest {
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        // Last opened, first closed: pools, then client loops, then servers.
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private Path socketPath() throws IOException {
        // Short, under /tmp: socket paths are limited to 107 bytes.
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "bfu");
        cleanup.add(() -> {
            Files.deleteIfExists(dir.resolve("s.sock"));
            Files.deleteIfExists(dir);
        });
        return dir.resolve("s.sock");
    }

    private EventLoopGroup group(Transport transport, String name) {
        EventLoopGroup group = transport.newEventLoopGroup(1, name);
        cleanup.add(() -> group.shutdownGracefully(0, 1, SECONDS).await(5, SECONDS));
        return group;
    }

    /** A line server: PING gets PONG, anything else "echo " and the line. */
    private void serve(Transport transport, SocketAddress address) throws InterruptedException {
        Channel server = new ServerBootstrap()
                .group(group(transport, "unix-server"))
                .channel(DomainSockets.serverChannelType(transport))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.pipeline()
                                .addLast(new LineBasedFrameDecoder(1024))
                                .addLast(new StringDecoder(StandardCharsets.UTF_8))
                                .addLast(new StringEncoder(StandardCharsets.UTF_8))
                                .addLast(new SimpleChannelInboundHandler<String>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, String line) {
                                        ctx.writeAndFlush(line.equals("PING") ? "PONG\n" : "echo " + line + "\n");
                                    }
                                });
                    }
                })
                .bind(DomainSockets.connectAddress(transport, address))
                .sync()
                .channel();
        cleanup.add(() -> server.close().sync());
    }

    /** Members are line channels; requests are answered in order. */
    private MemberConnector<SocketAddress, String, String> connector(Transport transport) {
        EventLoopGroup group = group(transport, "unix-client");
        return address -> {
            CompletableFuture<LineMember> connected = new CompletableFuture<>();
            LineMember member = new LineMember();
            new Bootstrap()
                    .group(group)
                    .channel(DomainSockets.channelType(transport, address))
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            channel.pipeline()
                                    .addLast(new LineBasedFrameDecoder(1024))
                                    .addLast(new StringDecoder(StandardCharsets.UTF_8))
                                    .addLast(new StringEncoder(StandardCharsets.UTF_8))
                                    .addLast(new SimpleChannelInboundHandler<String>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, String line) {
                                            member.answered(line);
                                        }
                                    });
                        }
                    })
                    .connect(DomainSockets.connectAddress(transport, address))
                    .addListener(done -> {
                        if (done.isSuccess()) {
                            connected.complete(member.on(((io.netty.channel.ChannelFuture) done).channel()));
                        } else {
                            connected.completeExceptionally(done.cause());
                        }
                    });
            return connected;
        };
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aPoolServesCallsOverAUnixSocket(Transport transport) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(transport.isAvailable(), transport + " is not available here");
        Path path = socketPath();
        SocketTarget target = SocketTarget.parse("unix:" + path);
        serve(transport, DomainSockets.address(path.toString()));

        WarmPool<SocketAddress, String, String> pool = WarmPool.builder("local", target.source(), connector(transport))
                .want(2)
                .healthyMin(2)
                .healthChecks(Duration.ofSeconds(1), Duration.ofSeconds(5))
                .backoff(Duration.ofMillis(20), 1.5, 0.5, Duration.ofMillis(200))
                .build();
        cleanup.add(pool);

        pool.whenReady().toCompletableFuture().get(20, SECONDS);
        assertThat(pool.call("hello").get(10, SECONDS)).isEqualTo("echo hello");
        assertThat(pool.call("again").get(10, SECONDS)).isEqualTo("echo again");
        PoolStatus status = pool.status().get(10, SECONDS);
        assertThat(status.healthy()).isEqualTo(2);
        assertThat(status.addresses()).singleElement().satisfies(address -> {
            assertThat(address.address()).isEqualTo(path.toString());
            assertThat(address.members()).isEqualTo(2);
        });
    }

    @Test
    void aMissingSocketIsAConnectionErrorOnTheAddress() throws Exception {
        Transport transport = Transport.NIO;
        Path path = socketPath();
        WarmPool<SocketAddress, String, String> pool = WarmPool.builder(
                        "missing", SocketTarget.parse("unix:" + path).source(), connector(transport))
                .want(1)
                .healthyMin(1)
                .failFastWait(Duration.ofMillis(200))
                .build();
        cleanup.add(pool);

        Throwable failure = pool.call("x").handle((ok, error) -> error).get(10, SECONDS);
        assertThat(failure).hasMessageContaining("no member of pool 'missing' was ready");
        PoolStatus status = pool.status().get(10, SECONDS);
        assertThat(status.addresses())
                .singleElement()
                .satisfies(address -> assertThat(address.errors())
                        .isNotEmpty()
                        .first()
                        .satisfies(error ->
                                assertThat(error.message()).startsWith("connection to " + path + " failed: ")));
    }

    @Test
    void targetsParseOrSayWhatIsWrong() {
        assertThat(SocketTarget.parse("unix:/run/users.sock").isUnix()).isTrue();
        assertThat(SocketTarget.parse("unix:/run/users.sock").path()).isEqualTo("/run/users.sock");
        assertThat(SocketTarget.parse("unix:///run/users.sock").path()).isEqualTo("/run/users.sock");
        SocketTarget v6 = SocketTarget.parse("[::1]:8080");
        assertThat(v6.host()).isEqualTo("::1");
        assertThat(v6.port()).isEqualTo(8080);
        assertThat(SocketTarget.parse("users.internal:443").host()).isEqualTo("users.internal");

        assertThatThrownBy(() -> SocketTarget.parse("unix:"))
                .hasMessage("target 'unix:' has no socket path after unix:");
        assertThatThrownBy(() -> SocketTarget.parse("users.internal"))
                .hasMessage("target 'users.internal' must be host:port, [ipv6]:port or unix:/path/to/socket");
        assertThatThrownBy(() -> SocketTarget.parse("users.internal:http"))
                .hasMessage("target 'users.internal:http' has a bad port 'http'");
        assertThatThrownBy(() -> SocketTarget.parse("users.internal:0"))
                .hasMessage("target 'users.internal:0' has port 0; it must be 1 to 65535");
        String longPath = "/tmp/" + "d".repeat(110) + ".sock";
        assertThatThrownBy(() -> SocketTarget.parse("unix:" + longPath))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unix socket path '" + longPath + "' is 120 bytes; the kernel takes at most 107"
                        + " (use a shorter directory)");
    }

    @Test
    void eachTransportConnectsWithItsOwnAddressForm() {
        UnixDomainSocketAddress jdk = DomainSockets.address("/tmp/x.sock");
        assertThat(DomainSockets.connectAddress(Transport.NIO, jdk)).isSameAs(jdk);
        assertThat(DomainSockets.connectAddress(Transport.EPOLL, jdk))
                .isEqualTo(new io.netty.channel.unix.DomainSocketAddress("/tmp/x.sock"));
        assertThat(DomainSockets.connectAddress(
                        Transport.NIO, new io.netty.channel.unix.DomainSocketAddress("/tmp/x.sock")))
                .isEqualTo(jdk);
        InetSocketAddress tcp = new InetSocketAddress(InetAddress.getLoopbackAddress(), 80);
        assertThat(DomainSockets.connectAddress(Transport.EPOLL, tcp)).isSameAs(tcp);
        assertThat(DomainSockets.channelType(Transport.NIO, tcp)).isEqualTo(Transport.NIO.channelType());
        assertThat(DomainSockets.channelType(Transport.NIO, jdk))
                .isEqualTo(io.netty.channel.socket.nio.NioDomainSocketChannel.class);
    }

    /** One line connection: requests answered in order. */
    static final class LineMember implements PoolMember<String, String> {
        private final ArrayDeque<CompletableFuture<String>> waiting = new ArrayDeque<>();
        private final CompletableFuture<Void> gone = new CompletableFuture<>();
        private Channel channel;

        LineMember on(Channel connected) {
            this.channel = connected;
            connected.closeFuture().addListener(closed -> {
                gone.complete(null);
                failAll();
            });
            return this;
        }

        @Override
        public CompletableFuture<String> call(String request) {
            CompletableFuture<String> answer = new CompletableFuture<>();
            // Queued and written under one lock, so answers match requests in order.
            synchronized (this) {
                waiting.add(answer);
                channel.writeAndFlush(request + "\n");
            }
            return answer;
        }

        synchronized void answered(String line) {
            CompletableFuture<String> next = waiting.poll();
            if (next != null) {
                next.complete(line);
            }
        }

        private void failAll() {
            List<CompletableFuture<String>> pending;
            synchronized (this) {
                pending = new ArrayList<>(waiting);
                waiting.clear();
            }
            pending.forEach(f -> f.completeExceptionally(new IOException("connection closed")));
        }

        @Override
        public CompletionStage<?> checkHealth() {
            return call("PING").thenAccept(answer -> {
                if (!answer.equals("PONG")) {
                    throw new IllegalStateException("health answer was '" + answer + "'");
                }
            });
        }

        @Override
        public CompletionStage<?> closed() {
            return gone;
        }

        @Override
        public void close() {
            channel.close();
        }
    }
}
