package dev.belfry.http.compression;

import static org.assertj.core.api.Assertions.assertThat;

import com.aayushatharva.brotli4j.encoder.Encoder;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.BadRequestException;
import dev.belfry.http.Body;
import dev.belfry.http.BodyTooLargeException;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.Chunks;
import dev.belfry.test.MockService;
import dev.belfry.test.NoNettyLeaks;
import dev.belfry.test.VerifyAfterEach;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@ExtendWith({VerifyAfterEach.class, NoNettyLeaks.class})
class DecompressionTest {
    private final MockService<HttpRequest, HttpResponse> inner = MockService.create();

    static byte[] encode(ContentCoding coding, byte[] plain) throws IOException {
        if (coding == ContentCoding.BR) {
            return Encoder.compress(plain);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = switch (coding) {
            case GZIP -> new GZIPOutputStream(bytes);
            case DEFLATE -> new DeflaterOutputStream(bytes);
            case ZSTD -> new com.github.luben.zstd.ZstdOutputStream(bytes);
            case BR -> throw new AssertionError();
        }) {
            out.write(plain);
        }
        return bytes.toByteArray();
    }

    /** {@code bytes} as a streamed body in chunks of {@code size}. */
    static Chunks chunked(byte[] bytes, int size) {
        List<byte[]> chunks = new ArrayList<>();
        for (int i = 0; i < bytes.length; i += size) {
            chunks.add(Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + size)));
        }
        return Chunks.ofBytes(chunks);
    }

    private static HttpRequest encoded(String encoding, Body body) {
        return HttpRequest.builder(HttpMethod.POST, "/upload")
                .header("content-encoding", encoding)
                .header("content-length", Long.toString(body.contentLength()))
                .body(body)
                .build();
    }

    @ParameterizedTest
    @EnumSource(ContentCoding.class)
    void inflatesEachCodingFedInSmallChunksAndDropsTheCodingHeaders(ContentCoding coding) throws IOException {
        Service<HttpRequest, HttpResponse> service = DecompressionLayer.create().wrap(inner);
        byte[] plain = CompressionTest.TEXT.getBytes(StandardCharsets.UTF_8);
        byte[] compressed = encode(coding, plain);

        CompletableFuture<HttpResponse> result =
                service.call(encoded(coding.token(), chunked(compressed, 7).body(compressed.length)));

        var pending = inner.handle().next();
        assertThat(pending.request().headers().contains("content-encoding")).isFalse();
        assertThat(pending.request().headers().contains("content-length")).isFalse();
        assertThat(pending.request().body().collectUtf8(1 << 20).join()).isEqualTo(CompressionTest.TEXT);
        pending.respond(HttpResponse.of(204));
        assertThat(result.join().status()).isEqualTo(204);
    }

    @Test
    void aZipBombStopsAtTheCapWith413AndTheUploadIsCancelled() throws IOException {
        Service<HttpRequest, HttpResponse> service =
                DecompressionLayer.builder().maxInflatedBytes(1 << 20).build().wrap(inner);
        byte[] bomb = encode(ContentCoding.GZIP, new byte[64 << 20]); // 64 MiB of zeros, ~64 KiB on the wire
        Chunks upload = chunked(bomb, 1024);

        service.call(encoded("gzip", upload.body(bomb.length)));

        var pending = inner.handle().next();
        Throwable failure = Futures.unwrap(pending.request()
                .body()
                .collectBytes(64 << 20)
                .handle((b, f) -> f)
                .join());
        assertThat(failure).isInstanceOf(BodyTooLargeException.class);
        assertThat(((BodyTooLargeException) failure).limit()).isEqualTo(1 << 20);
        assertThat(upload.cancelled()).isTrue();
        assertThat(upload.emitted())
                .as("stopped early, not after the whole upload")
                .isLessThan(bomb.length / 1024);
        pending.fail(failure);
    }

    @Test
    void aCorruptOrTruncatedBodyIsABadRequest() throws IOException {
        Service<HttpRequest, HttpResponse> service = DecompressionLayer.create().wrap(inner);
        byte[] gz = encode(ContentCoding.GZIP, CompressionTest.TEXT.getBytes(StandardCharsets.UTF_8));

        service.call(
                encoded("gzip", Body.of("this is not gzip at all, not even close".getBytes(StandardCharsets.UTF_8))));
        service.call(encoded("gzip", Body.of(Arrays.copyOf(gz, gz.length / 2))));

        for (int i = 0; i < 2; i++) {
            var pending = inner.handle().next();
            Throwable failure = Futures.unwrap(pending.request()
                    .body()
                    .collectBytes(1 << 20)
                    .handle((b, f) -> f)
                    .join());
            assertThat(failure).isInstanceOf(BadRequestException.class).hasMessageContaining("not valid gzip");
            pending.fail(failure);
        }
    }

    @Test
    void anUnsupportedOrStackedCodingIs415ListingWhatIsAccepted() {
        Service<HttpRequest, HttpResponse> service = DecompressionLayer.builder()
                .codings(ContentCoding.GZIP, ContentCoding.DEFLATE)
                .build()
                .wrap(inner);
        Chunks upload = Chunks.of("x");

        HttpResponse unknown = service.call(encoded("compress", upload.body(1))).join();
        HttpResponse notOffered = service.call(encoded("br", Body.of("x"))).join();
        HttpResponse stacked =
                service.call(encoded("gzip, deflate", Body.of("x"))).join();

        for (HttpResponse response : List.of(unknown, notOffered, stacked)) {
            assertThat(response.status()).isEqualTo(415);
            assertThat(response.header("accept-encoding")).isEqualTo("gzip, deflate");
        }
        assertThat(upload.cancelled()).isTrue();
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void identityAndNoCodingPassThrough() {
        Service<HttpRequest, HttpResponse> service = DecompressionLayer.create().wrap(inner);
        Body body = Body.of("plain");

        service.call(encoded("identity", body));
        service.call(HttpRequest.post("/upload", body));

        var first = inner.handle().next();
        var second = inner.handle().next();
        assertThat(first.request().headers().contains("content-encoding")).isFalse();
        assertThat(first.request().body()).isSameAs(body);
        assertThat(second.request().body()).isSameAs(body);
        first.respond(HttpResponse.of(204));
        second.respond(HttpResponse.of(204));
    }
}
