package dev.belfry.http.compression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.belfry.http.Body;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.test.NoNettyLeaks;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Compression without brotli4j and zstd-jni on the class path: run by the build's {@code
 * without-optional-codecs} test execution, which leaves both out.
 */
@ExtendWith(NoNettyLeaks.class)
class OptionalCodecsAbsentTest {
    // Not CompressionTest's: that class links against the optional libraries this run leaves out.
    private static final String TEXT = "compressible text ".repeat(200);

    @BeforeEach
    void onlyInTheRunWithoutTheLibraries() {
        // Selected by name (-Dtest=...) the test also runs in the ordinary execution, with the
        // libraries present; it proves something only in the execution that leaves them out.
        assumeTrue(Boolean.getBoolean("belfry.test.optionalCodecsAbsent"), "needs the without-optional-codecs run");
    }

    @Test
    void theOptionalCodingsAreUnavailableAndSkipped() {
        assertThat(ContentCoding.BR.available()).isFalse();
        assertThat(ContentCoding.ZSTD.available()).isFalse();
        assertThat(CompressionLayer.create().codings()).containsExactly(ContentCoding.GZIP, ContentCoding.DEFLATE);
        assertThat(DecompressionLayer.create().codings()).containsExactly(ContentCoding.GZIP, ContentCoding.DEFLATE);
    }

    @Test
    void aClientPreferringBrGetsGzip() {
        var service = CompressionLayer.create().wrap(r -> CompletableFuture.completedFuture(HttpResponse.text(TEXT)));

        HttpResponse response = service.call(HttpRequest.builder(HttpMethod.GET, "/")
                        .header("accept-encoding", "br, zstd, gzip;q=0.5")
                        .build())
                .join();

        assertThat(response.header("content-encoding")).isEqualTo("gzip");
        response.close();
    }

    @Test
    void aGzipUploadStillInflates() throws java.io.IOException {
        java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
            out.write(TEXT.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        var service = DecompressionLayer.create()
                .wrap(r -> r.body().collectUtf8(1 << 20).thenApply(HttpResponse::text));

        HttpResponse response = service.call(HttpRequest.builder(HttpMethod.POST, "/")
                        .header("content-encoding", "gzip")
                        .body(Body.of(gz.toByteArray()))
                        .build())
                .join();

        assertThat(response.body().collectUtf8(1 << 20).join()).isEqualTo(TEXT);
    }

    @Test
    void aBrUploadIsRefusedWith415() {
        var service = DecompressionLayer.create().wrap(r -> CompletableFuture.completedFuture(HttpResponse.of(204)));

        HttpResponse response = service.call(HttpRequest.builder(HttpMethod.POST, "/")
                        .header("content-encoding", "br")
                        .body(Body.of("x"))
                        .build())
                .join();

        assertThat(response.status()).isEqualTo(415);
        assertThat(response.header("accept-encoding")).isEqualTo("gzip, deflate");
    }
}
