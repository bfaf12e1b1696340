package dev.belfry.http.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.http.Headers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The bytes of a whole response are the ones Netty's encoder writes for the same message. */
class WholeResponseTest {

    @ParameterizedTest
    @ValueSource(ints = {100, 101, 200, 204, 226, 299, 304, 404, 431, 503, 599, 600, 999})
    void theHeadIsByteForByteWhatNettysEncoderWrites(int status) {
        Headers fields = Headers.of(
                "content-type", "text/plain; charset=utf-8",
                "set-cookie", "a=1",
                "set-cookie", "b=2",
                "x-latin", "caf\u00e9", // one byte, as Netty's encoder writes it
                "x-wide", "\u20ac and \u4e16", // beyond one byte: '?', as Netty's encoder writes it
                "x-empty", "");
        // Netty's encoder writes no body, and strips the framing fields, on a 1xx, 204 or 304; so
        // does the server, before it gets here.
        boolean bodyless = status < 200 || status == 204 || status == 304;
        byte[] body = bodyless ? new byte[0] : "Hello, World!".getBytes(StandardCharsets.UTF_8);
        for (HttpVersion version : new HttpVersion[] {HttpVersion.HTTP_1_1, HttpVersion.HTTP_1_0}) {
            String[] extra = {bodyless ? null : "content-length", "13", "connection", "close"};
            assertThat(ours(version, status, fields, extra, body))
                    .as("%s %d", version, status)
                    .isEqualTo(netty(version, status, fields, extra, body));
        }
    }

    @Test
    void randomFieldsAndBodiesOfEverySizeAroundTheCopyLimit() {
        var random = new SplittableRandom(7);
        for (int round = 0; round < 200; round++) {
            Headers.Builder builder = Headers.builder();
            int count = random.nextInt(12);
            for (int i = 0; i < count; i++) {
                builder.add("x-f" + random.nextInt(5), randomValue(random));
            }
            int size = random.nextBoolean()
                    ? random.nextInt(64)
                    : WholeResponse.COPY_LIMIT - 2 + random.nextInt(5); // either side of the limit
            byte[] body = new byte[size];
            random.nextBytes(body);
            String[] extra = random.nextBoolean()
                    ? new String[] {"content-length", Integer.toString(size), null, null}
                    : new String[] {null, null, "connection", "keep-alive"};
            Headers fields = builder.build();
            assertThat(ours(HttpVersion.HTTP_1_1, 200, fields, extra, body))
                    .as("round %d", round)
                    .isEqualTo(netty(HttpVersion.HTTP_1_1, 200, fields, extra, body));
        }
    }

    @Test
    void fieldsTheConnectionDecidesAreLeftOut() {
        Headers fields = Headers.of("connection", "upgrade", "a", "1", "keep-alive", "timeout=5", "b", "2");
        ByteBuf head = WholeResponse.head(
                UnpooledByteBufAllocator.DEFAULT,
                HttpVersion.HTTP_1_1,
                200,
                fields,
                name -> name.equals("connection") || name.equals("keep-alive"),
                new String[] {"connection", "close"},
                new byte[0]);
        try {
            assertThat(head.toString(StandardCharsets.US_ASCII))
                    .isEqualTo("HTTP/1.1 200 OK\r\na: 1\r\nb: 2\r\nconnection: close\r\n\r\n");
        } finally {
            head.release();
        }
    }

    private static String randomValue(SplittableRandom random) {
        char[] chars = new char[random.nextInt(20)];
        for (int i = 0; i < chars.length; i++) {
            char c;
            do {
                c = (char) (random.nextBoolean() ? 0x20 + random.nextInt(0x5f) : 1 + random.nextInt(0x3000));
            } while (c == '\r' || c == '\n');
            chars[i] = c;
        }
        return new String(chars).strip(); // Netty's header map would keep the blanks too; no matter
    }

    private static byte[] ours(HttpVersion version, int status, Headers fields, String[] extra, byte[] body) {
        ByteBuf head = WholeResponse.head(
                UnpooledByteBufAllocator.DEFAULT, version, status, fields, name -> false, extra, body);
        try {
            byte[] bytes = new byte[head.readableBytes()];
            head.readBytes(bytes);
            if (body.length > WholeResponse.COPY_LIMIT) { // written as a second buffer
                bytes = concat(bytes, body);
            }
            return bytes;
        } finally {
            head.release();
        }
    }

    private static byte[] netty(HttpVersion version, int status, Headers fields, String[] extra, byte[] body) {
        HttpHeaders headers =
                DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
        fields.forEach((name, value) -> headers.add(name, value));
        for (int i = 0; i + 1 < extra.length; i += 2) {
            if (extra[i] != null) {
                headers.add(extra[i], extra[i + 1]);
            }
        }
        var channel = new EmbeddedChannel(new HttpResponseEncoder());
        try {
            channel.writeOutbound(new DefaultFullHttpResponse(
                    version,
                    HttpResponseStatus.valueOf(status),
                    Unpooled.wrappedBuffer(body),
                    headers,
                    EmptyHttpHeaders.INSTANCE));
            var out = new ByteArrayOutputStream();
            ByteBuf chunk;
            while ((chunk = channel.readOutbound()) != null) {
                byte[] bytes = new byte[chunk.readableBytes()];
                chunk.readBytes(bytes);
                chunk.release();
                out.writeBytes(bytes);
            }
            return out.toByteArray();
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
