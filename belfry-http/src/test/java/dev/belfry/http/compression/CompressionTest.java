package dev.belfry.http.compression;

import static org.assertj.core.api.Assertions.assertThat;

import com.aayushatharva.brotli4j.decoder.Decoder;
import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import com.aayushatharva.brotli4j.decoder.DirectDecompress;
import dev.belfry.Service;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.Chunks;
import dev.belfry.test.MockService;
import dev.belfry.test.NoNettyLeaks;
import dev.belfry.test.VerifyAfterEach;
import io.netty.buffer.ByteBuf;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@ExtendWith({VerifyAfterEach.class, NoNettyLeaks.class})
class CompressionTest {
    static final String TEXT = "Belfry compresses what is worth compressing. ".repeat(100); // 4500 bytes

    private final MockService<HttpRequest, HttpResponse> inner = MockService.create();
    private final Service<HttpRequest, HttpResponse> service =
            CompressionLayer.create().wrap(inner);

    private static HttpRequest accepting(String acceptEncoding) {
        return HttpRequest.builder(HttpMethod.GET, "/")
                .header("accept-encoding", acceptEncoding)
                .build();
    }

    static byte[] decode(ContentCoding coding, byte[] bytes) throws IOException {
        return switch (coding) {
            case GZIP -> readAll(new GZIPInputStream(new ByteArrayInputStream(bytes)));
            case DEFLATE -> readAll(new InflaterInputStream(new ByteArrayInputStream(bytes)));
            case BR -> {
                DirectDecompress result = Decoder.decompress(bytes);
                assertThat(result.getResultStatus()).isEqualTo(DecoderJNI.Status.DONE);
                yield result.getDecompressedData();
            }
            case ZSTD -> readAll(new com.github.luben.zstd.ZstdInputStream(new ByteArrayInputStream(bytes)));
        };
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @EnumSource(ContentCoding.class)
    void compressesAStreamedBodyInEachCodingAndItDecodesToTheOriginal(ContentCoding coding) throws IOException {
        assertThat(coding.available()).as(coding + " is on the test class path").isTrue();
        CompletableFuture<HttpResponse> result = service.call(accepting(coding.token()));
        inner.handle()
                .next()
                .respond(HttpResponse.status(200)
                        .header("content-type", "text/plain")
                        .header("content-length", "4500")
                        .header("etag", "\"v1\"")
                        .body(Chunks.of(TEXT.substring(0, 1000), TEXT.substring(1000, 3000), TEXT.substring(3000))
                                .body(TEXT.length()))
                        .build());

        HttpResponse response = result.join();
        assertThat(response.header("content-encoding")).isEqualTo(coding.token());
        assertThat(response.header("content-length")).isNull();
        assertThat(response.body().contentLength()).isEqualTo(-1);
        assertThat(response.header("vary")).isEqualTo("accept-encoding");
        assertThat(response.header("etag")).isEqualTo("W/\"v1\"");
        byte[] compressed = response.body().collectBytes(1 << 20).join();
        assertThat(compressed.length).isLessThan(TEXT.length() / 4);
        assertThat(new String(decode(coding, compressed), StandardCharsets.UTF_8))
                .isEqualTo(TEXT);
    }

    @Test
    void streamsChunkByChunkWithoutReadingTheWholeSourceFirst() throws IOException {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            parts.add(("part " + i + " ").repeat(200));
        }
        Chunks source = Chunks.of(parts.toArray(new String[0]));
        CompletableFuture<HttpResponse> result = service.call(accepting("gzip"));
        inner.handle()
                .next()
                .respond(HttpResponse.status(200).body(source.body()).build());

        List<byte[]> received = new ArrayList<>();
        Flow.Subscription[] subscription = new Flow.Subscription[1];
        boolean[] done = new boolean[1];
        result.join().body().subscribeBuffers(new Flow.Subscriber<ByteBuf>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription[0] = s;
            }

            @Override
            public void onNext(ByteBuf item) {
                byte[] bytes = new byte[item.readableBytes()];
                item.readBytes(bytes);
                item.release();
                received.add(bytes);
            }

            @Override
            public void onError(Throwable throwable) {}

            @Override
            public void onComplete() {
                done[0] = true;
            }
        });

        subscription[0].request(1);
        assertThat(received).hasSize(1);
        assertThat(source.emitted())
                .as("one output needs only the first chunks")
                .isLessThan(5);
        while (!done[0]) {
            subscription[0].request(1);
        }
        assertThat(source.emitted()).isEqualTo(50);
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (byte[] bytes : received) {
            all.write(bytes);
        }
        assertThat(new String(decode(ContentCoding.GZIP, all.toByteArray()), StandardCharsets.UTF_8))
                .isEqualTo(String.join("", parts));
    }

    @Test
    void leavesAloneWhatIsNotWorthOrNotSafeToCompress() {
        assertUncompressed(accepting("gzip"), HttpResponse.text("short")); // 5 bytes < 1 KiB
        assertUncompressed(accepting("gzip"), typed("image/png"));
        assertUncompressed(accepting("gzip"), typed("application/grpc+proto"));
        assertUncompressed(accepting("gzip"), typed("video/mp4"));
        assertUncompressed(accepting("gzip"), typed("application/zip"));
        assertUncompressed(accepting("gzip"), typed("text/event-stream"));
        assertUncompressed(
                accepting("gzip"),
                HttpResponse.status(200)
                        .header("content-encoding", "br")
                        .body(dev.belfry.http.Body.of(TEXT))
                        .build());
        assertUncompressed(
                accepting("gzip"),
                HttpResponse.status(200)
                        .header("cache-control", "public, no-transform")
                        .body(dev.belfry.http.Body.of(TEXT))
                        .build());
        assertUncompressed(accepting("gzip"), HttpResponse.of(204));
        assertUncompressed(accepting("gzip"), HttpResponse.of(304));
        assertUncompressed(
                HttpRequest.builder(HttpMethod.HEAD, "/")
                        .header("accept-encoding", "gzip")
                        .build(),
                HttpResponse.text(TEXT));
    }

    @Test
    void aClientThatAcceptsNothingGetsTheBodyAsIsButTheResponseVaries() {
        CompletableFuture<HttpResponse> result = service.call(accepting("gzip;q=0, identity"));
        inner.handle().next().respond(HttpResponse.text(TEXT));

        HttpResponse response = result.join();
        assertThat(response.header("content-encoding")).isNull();
        assertThat(response.header("vary")).isEqualTo("accept-encoding");
        assertThat(response.body().collectUtf8(1 << 20).join()).isEqualTo(TEXT);
    }

    @Test
    void svgIsCompressedAndAnExistingVaryIsKept() {
        CompletableFuture<HttpResponse> result = service.call(accepting("gzip"));
        inner.handle()
                .next()
                .respond(HttpResponse.status(200)
                        .header("content-type", "image/svg+xml")
                        .header("vary", "Accept-Encoding, origin")
                        .body(dev.belfry.http.Body.of(TEXT))
                        .build());

        HttpResponse response = result.join();
        assertThat(response.header("content-encoding")).isEqualTo("gzip");
        assertThat(response.headers().getAll("vary")).containsExactly("Accept-Encoding, origin");
        response.close();
    }

    private static HttpResponse typed(String contentType) {
        return HttpResponse.status(200)
                .header("content-type", contentType)
                .body(dev.belfry.http.Body.of(TEXT))
                .build();
    }

    private void assertUncompressed(HttpRequest request, HttpResponse original) {
        CompletableFuture<HttpResponse> result = service.call(request);
        inner.handle().next().respond(original);
        HttpResponse response = result.join();
        assertThat(response.headers().getAll("content-encoding"))
                .as("%s", original.headers())
                .isEqualTo(original.headers().getAll("content-encoding"));
        assertThat(response.body()).isSameAs(original.body());
    }
}
