package dev.belfry.proxy.l4;

import dev.belfry.health.HealthCheck;
import dev.belfry.netty.check.HttpCheck;
import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.config.HealthCheckConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

/**
 * Active health checks of backends: a TCP connect, or an HTTP/1.1 GET answered with a given status
 * (belfry-netty's {@link HttpCheck}).
 */
final class BackendChecks {
    private BackendChecks() {}

    /** The check {@code config} describes, of the backend at {@code address}. */
    static HealthCheck of(
            HealthCheckConfig config, InetSocketAddress address, EventLoopGroup group, Transport transport) {
        return switch (config.kind()) {
            case TCP -> {
                int timeoutMillis =
                        (int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis());
                yield () -> connect(address, group, transport, timeoutMillis);
            }
            case HTTP -> http(config, address, group, transport);
        };
    }

    private static HttpCheck http(
            HealthCheckConfig config, InetSocketAddress address, EventLoopGroup group, Transport transport) {
        HttpCheck.Builder check = HttpCheck.builder(address, group, transport)
                .expectedStatus(config.expectedStatus())
                .connectTimeout(config.timeout());
        if (config.path() != null) {
            check.path(config.path());
        }
        return check.build();
    }

    private static CompletableFuture<Void> connect(
            InetSocketAddress address, EventLoopGroup group, Transport transport, int timeoutMillis) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        ChannelFuture connect = new Bootstrap()
                .group(group.next())
                .channel(transport.channelType())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(address);
        Channel channel = connect.channel();
        connect.addListener(done -> {
            if (!done.isSuccess()) {
                result.completeExceptionally(new ConnectFailedException(address, done.cause()));
            } else {
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
}
