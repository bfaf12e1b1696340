/**
 * Compression: {@link dev.belfry.http.compression.CompressionLayer} compresses response bodies for
 * clients that accept it, and {@link dev.belfry.http.compression.DecompressionLayer} inflates request
 * bodies sent compressed, with a cap on the inflated size.
 *
 * <p>Codings ({@link dev.belfry.http.compression.ContentCoding}): {@code gzip} and {@code deflate}
 * always (the JDK's zlib through Netty); {@code br} when {@code com.aayushatharva.brotli4j:brotli4j}
 * is on the class path and {@code zstd} when {@code com.github.luben:zstd-jni} is (both optional
 * dependencies of {@code belfry-http}: add them to your build to offer them). Both directions
 * stream, chunk by chunk, with demand passed through: a body is never held whole.
 *
 * <p>Responses: the coding is the one the client's {@code Accept-Encoding} gives the highest
 * q-value ({@code *} counts for codings not named, {@code q=0} refuses), ties broken by the server's
 * order (default br, zstd, gzip, deflate). A response is left alone when it has a {@code
 * Content-Encoding} already, is to a HEAD, is 1xx, 204, 206 or 304, says {@code Cache-Control:
 * no-transform}, is gRPC ({@code application/grpc*}), an image (other than SVG), audio, video, an
 * event stream or an already compressed type (zip, gzip, zstd, woff2 ...), or is known to be
 * shorter than the minimum size (default 1 KiB; a body of unknown length is compressed). A
 * response that could be compressed gets {@code Vary: accept-encoding} whether it was or not; a
 * compressed one loses its {@code Content-Length} and its strong {@code ETag} becomes weak.
 *
 * <p>Requests: a body with {@code Content-Encoding} gzip, x-gzip, deflate, br or zstd (the last two
 * when available) is inflated and the header and {@code Content-Length} removed; an unsupported
 * coding is answered {@code 415} with {@code Accept-Encoding} listing the supported ones. An inflated
 * body past the cap (default 10 MiB) fails with {@link dev.belfry.http.BodyTooLargeException} (413:
 * zip bombs stop there), a corrupt one with {@link dev.belfry.http.BadRequestException} (400).
 *
 * <p>Layer order: put compression outside the access log and metrics to count uncompressed bytes,
 * inside to count bytes on the wire. Neither layer creates exceptions of its own type.
 */
@NullMarked
package dev.belfry.http.compression;

import org.jspecify.annotations.NullMarked;
