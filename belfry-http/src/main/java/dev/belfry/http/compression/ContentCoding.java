package dev.belfry.http.compression;

import dev.belfry.http.internal.body.Transform;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.handler.codec.compression.Brotli;
import io.netty.handler.codec.compression.BrotliEncoder;
import io.netty.handler.codec.compression.Decompressor;
import io.netty.handler.codec.compression.JdkZlibDecompressor;
import io.netty.handler.codec.compression.ZlibCodecFactory;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.handler.codec.compression.Zstd;
import io.netty.handler.codec.compression.ZstdDecompressor;
import io.netty.handler.codec.compression.ZstdEncoder;
import org.jspecify.annotations.Nullable;

/** A content coding Belfry can apply and remove. */
public enum ContentCoding {
    /** Brotli, when brotli4j is on the class path. */
    BR("br"),
    /** Zstandard, when zstd-jni is on the class path. */
    ZSTD("zstd"),
    /** gzip (RFC 1952), always available. */
    GZIP("gzip"),
    /** zlib-wrapped deflate (RFC 1950), always available. */
    DEFLATE("deflate");

    private static final int DECODE_CHUNK = 64 * 1024;

    private final String token;

    ContentCoding(String token) {
        this.token = token;
    }

    /** The token in {@code Content-Encoding} and {@code Accept-Encoding}. */
    public String token() {
        return token;
    }

    /** Whether the library this coding needs is on the class path and loads. */
    public boolean available() {
        return switch (this) {
            case BR -> Brotli.isAvailable();
            case ZSTD -> Zstd.isAvailable();
            case GZIP, DEFLATE -> true;
        };
    }

    /** A new streaming encoder (a Netty handler) for one body. */
    ChannelHandler newEncoder() {
        return switch (this) {
            case BR -> new BrotliEncoder();
            case ZSTD -> new ZstdEncoder();
            case GZIP -> ZlibCodecFactory.newZlibEncoder(ZlibWrapper.GZIP);
            case DEFLATE -> ZlibCodecFactory.newZlibEncoder(ZlibWrapper.ZLIB);
        };
    }

    /** A new streaming decoder for one body, failing past {@code maxBytes} inflated bytes. */
    Transform newDecoding(long maxBytes) {
        if (this == BR) {
            return new BrotliDecoding(maxBytes);
        }
        return new Codecs.Decoding(this, maxBytes, newDecompressor(ByteBufAllocator.DEFAULT));
    }

    /** A Netty decompressor (not for br), producing output in pieces of at most 64 KiB. */
    private Decompressor newDecompressor(ByteBufAllocator alloc) {
        return switch (this) {
            case BR -> throw new IllegalStateException("br is decoded by BrotliDecoding");
            case ZSTD -> ZstdDecompressor.builder().build(alloc);
            case GZIP ->
                JdkZlibDecompressor.builder()
                        .wrapper(ZlibWrapper.GZIP)
                        .maxAllocation(DECODE_CHUNK)
                        .build(alloc);
            // Some clients send raw deflate under this name; accept both.
            case DEFLATE ->
                JdkZlibDecompressor.builder()
                        .wrapper(ZlibWrapper.ZLIB_OR_NONE)
                        .maxAllocation(DECODE_CHUNK)
                        .build(alloc);
        };
    }

    /** The coding named {@code token} (case-insensitive, {@code x-gzip} is gzip), or null. */
    static @Nullable ContentCoding fromToken(String token) {
        return switch (token.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "br" -> BR;
            case "zstd" -> ZSTD;
            case "gzip", "x-gzip" -> GZIP;
            case "deflate" -> DEFLATE;
            default -> null;
        };
    }

    @Override
    public String toString() {
        return token;
    }
}
