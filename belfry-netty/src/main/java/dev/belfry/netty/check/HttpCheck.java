package dev.belfry.netty.check;

import dev.belfry.Checks;
import dev.belfry.health.HealthCheck;
import dev.belfry.netty.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.NetUtil;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP/1.1 health check of one endpoint: connects, sends {@code GET path} with {@code
 * Connection: close}, and passes if the response's status is the expected one.
 *
 * <pre>{@code
 * HealthCheck check = HttpCheck.builder(address, group, transport)
 *         .path("/healthz")          // default "/"
 *         .expectedStatus(204)       // default 200
 *         .build();
 * monitor.monitor(address, service, check);
 * }</pre>
 *
 * <p>Each {@link #check()} opens a new connection (nothing is pooled, so a check also proves the
 * endpoint still accepts connections) and closes it as soon as the status line and headers have
 * arrived: the body is never read. Messages are built and parsed by Netty's {@link HttpClientCodec};
 * a status line or header block longer than the codec's limits fails the check rather than being
 * buffered without bound.
 *
 * <p>The check fails with:
 *
 * <ul>
 *   <li>a {@link ConnectException} naming the endpoint if the connect fails or times out;
 *   <li>{@link UnexpectedStatusException} if the endpoint answered with another status;
 *   <li>{@link CheckFailedException} if the connection closed before a response, or the answer was
 *       not HTTP.
 * </ul>
 *
 * <p>Cancelling the returned future abandons the probe and closes its connection (a health monitor
 * does so on timeout). Thread-safe: each check has its own connection; nothing is shared.
 */
public final class HttpCheck implements HealthCheck {
    /** The longest status line accepted; longer is not a health endpoint's answer. */
    static final int MAX_INITIAL_LINE = 1024;
    /** The largest header block accepted. */
    static final int MAX_HEADER_SIZE = 8192;

    private final InetSocketAddress address;
    private final EventLoopGroup group;
    private final Transport transport;
    private final String path;
    private final int expectedStatus;
    private final int connectTimeoutMillis;
    private final String hostHeader;

    private HttpCheck(Builder builder) {
        this.address = builder.address;
        this.group = builder.group;
        this.transport = builder.transport;
        this.path = builder.path != null ? builder.path : "/";
        this.expectedStatus = builder.expectedStatus != null ? builder.expectedStatus : 200;
        Duration timeout = builder.connectTimeout != null ? builder.connectTimeout : Builder.DEFAULT_CONNECT_TIMEOUT;
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
        this.hostHeader = hostHeader(address);
    }

    /**
     * A builder of a check of the endpoint at {@code address}, connecting on {@code group}'s event
     * loops with channels of {@code transport} (which must be the group's own).
     */
    public static Builder builder(InetSocketAddress address, EventLoopGroup group, Transport transport) {
        return new Builder(address, group, transport);
    }

    /** Starts one probe: completes normally if the endpoint answered the expected status. */
    @Override
    public CompletableFuture<Void> check() {
        CompletableFuture<Void> result = new CompletableFuture<>();
        ChannelFuture connect = new Bootstrap()
                .group(group.next())
                .channel(transport.channelType())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.pipeline()
                                .addLast(
                                        new HttpClientCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, 8192),
                                        new StatusHandler(request(), expectedStatus, result));
                    }
                })
                .connect(address);
        Channel channel = connect.channel();
        connect.addListener(done -> {
            if (!done.isSuccess()) {
                Throwable cause = done.cause();
                ConnectException failed = new ConnectException("connect to " + hostHeader + " failed"
                        + (cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage()));
                failed.initCause(cause);
                result.completeExceptionally(failed);
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

    /** The request one probe sends: {@code GET path HTTP/1.1} with Host, User-Agent and Connection: close. */
    FullHttpRequest request() {
        return request(path, hostHeader);
    }

    // Header names in their usual capitalisation: HTTP ignores case, but people reading captures do not.
    static FullHttpRequest request(String path, String hostHeader) {
        FullHttpRequest request =
                new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path, Unpooled.EMPTY_BUFFER);
        request.headers()
                .set("Host", hostHeader)
                .set("User-Agent", "belfry-health-check")
                .set("Connection", HttpHeaderValues.CLOSE);
        return request;
    }

    /**
     * The Host header for {@code address}: {@code host:port} with the host as given (a name stays a
     * name), an IPv6 literal in brackets in its RFC 5952 form.
     */
    static String hostHeader(InetSocketAddress address) {
        String host = address.getHostString();
        if (host.indexOf(':') < 0) {
            return host + ":" + address.getPort();
        }
        InetAddress ip = address.getAddress();
        return "[" + (ip != null ? NetUtil.toAddressString(ip) : host) + "]:" + address.getPort();
    }

    @Override
    public String toString() {
        return "HttpCheck[GET http://" + hostHeader + path + ", expecting " + expectedStatus + "]";
    }

    /** Configures an {@link HttpCheck}; every setting is optional, may be set once, and is checked when set. */
    public static final class Builder {
        static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);

        private final InetSocketAddress address;
        private final EventLoopGroup group;
        private final Transport transport;
        private @Nullable String path;
        private @Nullable Integer expectedStatus;
        private @Nullable Duration connectTimeout;

        private Builder(InetSocketAddress address, EventLoopGroup group, Transport transport) {
            this.address = Checks.notNull(address, "address");
            this.group = Checks.notNull(group, "group");
            this.transport = Checks.notNull(transport, "transport");
        }

        /**
         * The path (and query) to request; default {@code /}.
         *
         * @throws IllegalArgumentException if it does not start with {@code /} or holds a space or
         *     control character (which would break the request line)
         */
        public Builder path(String path) {
            Checks.notNull(path, "path");
            Checks.notSetTwice(this.path, "path");
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("path must start with '/', was '" + path + "'");
            }
            for (int i = 0; i < path.length(); i++) {
                char c = path.charAt(i);
                if (c <= ' ' || c == 0x7f) {
                    throw new IllegalArgumentException(
                            "path must not hold spaces or control characters, was '" + path + "'");
                }
            }
            this.path = path;
            return this;
        }

        /**
         * The status that passes the check; default 200.
         *
         * @throws IllegalArgumentException if it is outside 100..599
         */
        public Builder expectedStatus(int expectedStatus) {
            Checks.notSetTwice(this.expectedStatus, "expectedStatus");
            if (expectedStatus < 100 || expectedStatus > 599) {
                throw new IllegalArgumentException("expectedStatus must be between 100 and 599, was " + expectedStatus);
            }
            this.expectedStatus = expectedStatus;
            return this;
        }

        /** How long the connect may take; default 2 s. The whole probe is bounded by its caller. */
        public Builder connectTimeout(Duration connectTimeout) {
            Checks.positive(connectTimeout, "connectTimeout");
            Checks.notSetTwice(this.connectTimeout, "connectTimeout");
            this.connectTimeout = connectTimeout;
            return this;
        }

        /** The check. */
        public HttpCheck build() {
            return new HttpCheck(this);
        }
    }
}
