package dev.belfry.proxy.l4;

import dev.belfry.health.HealthCheck;
import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.config.Addresses;
import dev.belfry.proxy.config.HealthCheckConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/** Active health checks of backends: a TCP connect, or an HTTP/1.1 GET answered with a given status. */
final class BackendChecks {
    // A status line longer than this is not HTTP; stop reading rather than buffer without bound.
    private static final int MAX_STATUS_LINE = 1024;

    private BackendChecks() {}

    /** The check {@code config} describes, of the backend at {@code address}. */
    static HealthCheck of(
            HealthCheckConfig config, InetSocketAddress address, EventLoopGroup group, Transport transport) {
        int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis());
        return switch (config.kind()) {
            case TCP -> () -> connect(address, group, transport, timeoutMillis, null, 0);
            case HTTP ->
                () -> connect(
                        address, group, transport, timeoutMillis, request(config, address), config.expectedStatus());
        };
    }

    static String request(HealthCheckConfig config, InetSocketAddress address) {
        String path = config.path() == null ? "/" : config.path();
        return "GET " + path + " HTTP/1.1\r\nHost: " + hostHeader(address)
                + "\r\nUser-Agent: belfry-health-check\r\nConnection: close\r\n\r\n";
    }

    /** The backend as written in its config (a name stays a name), an IPv6 literal in brackets. */
    static String hostHeader(InetSocketAddress address) {
        String host = address.getHostString();
        return host.indexOf(':') >= 0 ? Addresses.format(address) : host + ":" + address.getPort();
    }

    private static CompletableFuture<Void> connect(
            InetSocketAddress address,
            EventLoopGroup group,
            Transport transport,
            int timeoutMillis,
            @Nullable String httpRequest,
            int expected) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        ChannelFuture connect = new Bootstrap()
                .group(group.next())
                .channel(transport.channelType())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                .handler(
                        httpRequest == null
                                ? new ChannelInboundHandlerAdapter()
                                : new StatusReader(httpRequest, result, expected))
                .connect(address);
        Channel channel = connect.channel();
        connect.addListener(done -> {
            if (!done.isSuccess()) {
                result.completeExceptionally(new ConnectFailedException(address, done.cause()));
            } else if (httpRequest == null) {
                result.complete(null);
                channel.close();
            }
        });
        result.whenComplete((ignored, failure) -> {
            if (failure instanceof CancellationException) {
                connect.cancel(false);
            }
            channel.close();
        });
        return result;
    }

    /** Sends the request, reads the status line, passes if the status is the expected one. */
    private static final class StatusReader extends ChannelInboundHandlerAdapter {
        private final String request;
        private final CompletableFuture<Void> result;
        private final int expected;
        private final StringBuilder line = new StringBuilder();

        StatusReader(String request, CompletableFuture<Void> result, int expected) {
            this.request = request;
            this.result = result;
            this.expected = expected;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII))
                    .addListener(io.netty.channel.ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (!(msg instanceof ByteBuf bytes) || result.isDone()) {
                    return;
                }
                while (bytes.isReadable()) {
                    char c = (char) bytes.readByte();
                    if (c == '\n' || line.length() >= MAX_STATUS_LINE) {
                        finish(line.toString().strip());
                        ctx.close();
                        return;
                    }
                    line.append(c);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void finish(String statusLine) {
            String[] parts = statusLine.split(" ", 3);
            int status = -1;
            if (parts.length >= 2 && parts[0].startsWith("HTTP/")) {
                try {
                    status = Integer.parseInt(parts[1]);
                } catch (NumberFormatException e) {
                    status = -1;
                }
            }
            if (status == expected) {
                result.complete(null);
            } else {
                result.completeExceptionally(
                        new IOException("health check answered '" + statusLine + "', expected " + expected));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new IOException("health check connection closed before a status line"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }
    }
}
