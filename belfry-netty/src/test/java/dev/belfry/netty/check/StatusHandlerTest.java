package dev.belfry.netty.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.test.NoNettyLeaks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The check's protocol handling in an {@link EmbeddedChannel} behind Netty's {@link HttpClientCodec}:
 * the request it writes, and responses fed whole, one byte at a time and in random fragments.
 */
@ExtendWith(NoNettyLeaks.class)
class StatusHandlerTest {
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    private static final String UNAVAILABLE =
            "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndown\r\n0\r\n\r\n";

    /** How a response is cut into reads. */
    enum Feed {
        WHOLE,
        BYTE_BY_BYTE,
        RANDOM_FRAGMENTS
    }

    private final CompletableFuture<Void> result = new CompletableFuture<>();
    private boolean closedAtVerdict;

    @Test
    void writesAGetWithHostUserAgentAndConnectionClose() throws Exception {
        InetSocketAddress backend = new InetSocketAddress(InetAddress.getByName("10.0.0.7"), 8080);
        EmbeddedChannel channel = channel(backend, "/healthz?full=1", 200);

        assertThat(written(channel))
                .isEqualTo(String.join(
                        "\r\n",
                        "GET /healthz?full=1 HTTP/1.1",
                        "Host: 10.0.0.7:8080",
                        "User-Agent: belfry-health-check",
                        "Connection: close",
                        "",
                        ""));
        channel.finishAndReleaseAll();
    }

    @Test
    void anIpv6BackendIsNamedInBracketsInTheHostHeader() throws Exception {
        InetSocketAddress backend = new InetSocketAddress(
                InetAddress.getByAddress(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), 9001);
        EmbeddedChannel channel = channel(backend, "/healthz", 200);

        assertThat(written(channel))
                .startsWith("GET /healthz HTTP/1.1\r\nHost: [::1]:9001\r\n")
                .endsWith("\r\nConnection: close\r\n\r\n");
        channel.finishAndReleaseAll();
    }

    @Test
    void anIpv4BackendAndANamedOneKeepTheirForm() throws Exception {
        assertThat(HttpCheck.hostHeader(new InetSocketAddress(InetAddress.getByAddress(new byte[] {10, 0, 0, 7}), 80)))
                .isEqualTo("10.0.0.7:80");
        assertThat(HttpCheck.hostHeader(InetSocketAddress.createUnresolved("app.internal", 8080)))
                .isEqualTo("app.internal:8080");
        assertThat(HttpCheck.hostHeader(new InetSocketAddress(
                        InetAddress.getByAddress("app.internal", new byte[] {10, 0, 0, 8}), 8080)))
                .isEqualTo("app.internal:8080");
        assertThat(HttpCheck.hostHeader(new InetSocketAddress(InetAddress.getByName("fd00:0:0:0:0:0:0:a"), 80)))
                .isEqualTo("[fd00::a]:80");
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void passesOnTheExpectedStatusAndCloses(Feed feed) {
        CompletableFuture<Void> result = answered(OK, 200, feed);

        assertThat(result).isCompleted();
        assertThat(closedAtVerdict).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void failsOnAnotherStatusNamingTheStatusLine(Feed feed) {
        CompletableFuture<Void> result = answered(UNAVAILABLE, 200, feed);

        assertThatThrownBy(result::get)
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(UnexpectedStatusException.class)
                .hasMessage("health check answered 'HTTP/1.1 503 Service Unavailable', expected 200");
        assertThat(closedAtVerdict).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void theExpectedStatusNeedNotBe200(Feed feed) {
        assertThat(answered("HTTP/1.1 204 No Content\r\n\r\n", 204, feed)).isCompleted();
        assertThatThrownBy(answered(OK, 204, feed)::get)
                .cause()
                .hasMessage("health check answered 'HTTP/1.1 200 OK', expected 204");
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void anAnswerThatIsNotHttpFails(Feed feed) {
        CompletableFuture<Void> result = answered("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", 200, feed);

        assertThatThrownBy(result::get)
                .cause()
                .isInstanceOf(CheckFailedException.class)
                .hasMessageStartingWith("health check answer is not HTTP: ");
    }

    @Test
    void aStatusLineLongerThanTheLimitFailsWithoutBufferingIt() {
        String longLine = "HTTP/1.1 200 " + "O".repeat(HttpCheck.MAX_INITIAL_LINE) + "\r\n\r\n";

        CompletableFuture<Void> result = answered(longLine, 200, Feed.WHOLE);

        assertThatThrownBy(result::get)
                .cause()
                .isInstanceOf(CheckFailedException.class)
                .hasMessageContaining("is not HTTP")
                .hasMessageContaining("TooLongHttpLineException");
    }

    @Test
    void aConnectionClosedBeforeTheStatusLineFails() {
        EmbeddedChannel channel = channel(InetSocketAddress.createUnresolved("app", 80), "/", 200);
        written(channel);
        channel.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 2", StandardCharsets.US_ASCII));

        channel.close();

        assertThatThrownBy(result::get)
                .cause()
                .isInstanceOf(CheckFailedException.class)
                .hasMessage("health check connection closed before a status line");
        channel.finishAndReleaseAll();
    }

    private CompletableFuture<Void> answered(String response, int expected, Feed feed) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        EmbeddedChannel channel = new EmbeddedChannel(
                new HttpClientCodec(HttpCheck.MAX_INITIAL_LINE, HttpCheck.MAX_HEADER_SIZE, 8192),
                new StatusHandler(HttpCheck.request("/", "app:80"), expected, result));
        written(channel);
        byte[] bytes = response.getBytes(StandardCharsets.US_ASCII);
        Random random = new Random(42);
        int at = 0;
        // Each piece is wrapped only when fed: the channel closes at the verdict, and whatever was
        // never fed was never allocated.
        while (at < bytes.length && channel.isOpen()) {
            assertThat(result)
                    .as("no verdict before the whole status line and headers")
                    .isNotDone();
            int length = switch (feed) {
                case WHOLE -> bytes.length;
                case BYTE_BY_BYTE -> 1;
                case RANDOM_FRAGMENTS -> 1 + random.nextInt(Math.min(7, bytes.length - at));
            };
            channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, at, at + length)));
            at += length;
        }
        closedAtVerdict = result.isDone() && !channel.isOpen();
        channel.finishAndReleaseAll();
        return result;
    }

    private EmbeddedChannel channel(InetSocketAddress backend, String path, int expected) {
        return new EmbeddedChannel(
                new HttpClientCodec(HttpCheck.MAX_INITIAL_LINE, HttpCheck.MAX_HEADER_SIZE, 8192),
                new StatusHandler(request(backend, path), expected, result));
    }

    private static FullHttpRequest request(InetSocketAddress backend, String path) {
        return HttpCheck.request(path, HttpCheck.hostHeader(backend));
    }

    private static String written(EmbeddedChannel channel) {
        StringBuilder text = new StringBuilder();
        for (ByteBuf out; (out = channel.readOutbound()) != null; ) {
            text.append(out.toString(StandardCharsets.US_ASCII));
            out.release();
        }
        return text.toString();
    }
}
