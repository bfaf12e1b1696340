package dev.belfry.netty.check;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.netty.transport.Transport;
import dev.belfry.test.NoNettyLeaks;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The check against real HTTP servers on loopback (Netty's server codec), one connection per probe. */
@ExtendWith(NoNettyLeaks.class)
@Timeout(value = 30, unit = SECONDS)
class HttpCheckTest {
    private final Transport transport = Transport.NIO;
    private final EventLoopGroup group = transport.newEventLoopGroup(1, "check-test");
    private final BlockingQueue<String> requests = new LinkedBlockingQueue<>();
    private final CountDownLatch serverSideClosed = new CountDownLatch(1);
    private volatile HttpResponseStatus answer = HttpResponseStatus.OK;
    private volatile boolean answering = true;

    @AfterEach
    void shutDown() throws InterruptedException {
        assertThat(group.shutdownGracefully(0, 1, SECONDS).await(5, SECONDS)).isTrue();
    }

    @Test
    void passesWhenTheServerAnswersTheExpectedStatus() throws Exception {
        InetSocketAddress server = server();

        HttpCheck.builder(server, group, transport)
                .path("/healthz")
                .build()
                .check()
                .get(5, SECONDS);

        assertThat(requests.take()).isEqualTo("GET /healthz host=127.0.0.1:" + server.getPort());
    }

    @Test
    void failsNamingTheStatusWhenTheServerAnswersAnother() throws Exception {
        InetSocketAddress server = server();
        answer = HttpResponseStatus.SERVICE_UNAVAILABLE;
        HttpCheck check = HttpCheck.builder(server, group, transport).build();

        assertThatThrownBy(() -> check.check().get(5, SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(UnexpectedStatusException.class)
                .hasMessage("health check answered 'HTTP/1.1 503 Service Unavailable', expected 200");

        answer = HttpResponseStatus.OK;
        check.check().get(5, SECONDS); // the next probe, a new connection, passes
        assertThat(requests).hasSize(2);
    }

    @Test
    void aRefusedConnectFailsNamingTheEndpoint() throws Exception {
        InetSocketAddress closed = server();
        stop();

        assertThatThrownBy(() -> HttpCheck.builder(closed, group, transport)
                        .build()
                        .check()
                        .get(5, SECONDS))
                .cause()
                .isInstanceOf(ConnectException.class)
                .hasMessageStartingWith("connect to 127.0.0.1:" + closed.getPort() + " failed: ");
    }

    @Test
    void cancellingAProbeClosesItsConnection() throws Exception {
        answering = false;
        InetSocketAddress server = server();
        CompletableFuture<Void> probe =
                HttpCheck.builder(server, group, transport).build().check();
        assertThat(requests.poll(5, SECONDS)).isEqualTo("GET / host=127.0.0.1:" + server.getPort());

        probe.cancel(false);

        assertThat(serverSideClosed.await(5, SECONDS)).isTrue();
    }

    @Test
    void theBuilderRejectsBadSettingsNamingThem() {
        InetSocketAddress address = new InetSocketAddress(NetUtil.LOCALHOST4, 80);
        assertThatThrownBy(() -> HttpCheck.builder(address, group, transport).path("healthz"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("path must start with '/', was 'healthz'");
        assertThatThrownBy(() -> HttpCheck.builder(address, group, transport).path("/a b"))
                .hasMessage("path must not hold spaces or control characters, was '/a b'");
        assertThatThrownBy(() -> HttpCheck.builder(address, group, transport).path("/x\r\nEvil: 1"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HttpCheck.builder(address, group, transport).expectedStatus(99))
                .hasMessage("expectedStatus must be between 100 and 599, was 99");
        assertThatThrownBy(() ->
                        HttpCheck.builder(address, group, transport).path("/").path("/"))
                .isInstanceOf(IllegalStateException.class);
    }

    private Channel serverChannel;

    private InetSocketAddress server() throws InterruptedException {
        serverChannel = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelType())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.closeFuture().addListener(closed -> serverSideClosed.countDown());
                        channel.pipeline().addLast(new HttpServerCodec(), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                try {
                                    if (msg instanceof HttpRequest request) {
                                        requests.add(request.method() + " " + request.uri() + " host="
                                                + request.headers().get(HttpHeaderNames.HOST));
                                        if (answering) {
                                            var response = new DefaultFullHttpResponse(
                                                    HttpVersion.HTTP_1_1,
                                                    answer,
                                                    Unpooled.copiedBuffer("body", StandardCharsets.US_ASCII));
                                            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 4);
                                            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                                        }
                                    }
                                } finally {
                                    ReferenceCountUtil.release(msg);
                                }
                            }
                        });
                    }
                })
                .bind(new InetSocketAddress(NetUtil.LOCALHOST4, 0))
                .sync()
                .channel();
        return (InetSocketAddress) serverChannel.localAddress();
    }

    private void stop() throws InterruptedException {
        serverChannel.close().sync();
    }
}
