package dev.belfry.http.server;

import dev.belfry.Checks;
import java.time.Duration;

/**
 * The server's protective limits. {@link #defaults()} is safe for an Internet-facing server; each
 * {@code with} method returns a copy with one limit changed.
 *
 * @param maxRequestLineBytes longest request line (method, target, version); longer gets 414
 * @param maxHeaderBytes most bytes of header fields in one request (HTTP/1.1), and the HTTP/2
 *     {@code SETTINGS_MAX_HEADER_LIST_SIZE}; more gets 431
 * @param maxHeaderCount most header fields in one request; more gets 431
 * @param maxRequestBodyBytes longest request body; a larger {@code Content-Length} gets 413 before
 *     the service is called, a longer streamed body fails with {@code BodyTooLargeException} (413)
 * @param headerReadTimeout time from a request's first byte to its last header byte (slowloris);
 *     exceeding it gets 408 and a close; when it is not shorter than {@code idleTimeout}, the idle
 *     timeout bounds the head instead
 * @param idleTimeout time an HTTP/1.1 keep-alive connection may wait for its next request (from
 *     its acceptance or last answer); with a {@code headerReadTimeout} at least as long, the time by
 *     which that request's head must be whole, however slowly its bytes trickle in (closed without
 *     an answer)
 * @param maxConcurrentStreams HTTP/2 {@code SETTINGS_MAX_CONCURRENT_STREAMS}
 * @param http2IdleTimeout time an HTTP/2 connection may stay open with no stream open; then it gets
 *     GOAWAY ({@code NO_ERROR}) and is closed
 * @param streamHeaderTimeout time an HTTP/2 client may take to finish a header block it started (a
 *     HEADERS frame and its CONTINUATION frames); exceeding it gets GOAWAY ({@code
 *     ENHANCE_YOUR_CALM}) and a close
 * @param lingerTimeout how long an HTTP/1.1 connection lingers after answering a request whose body
 *     it did not read whole: its output shut (the response is followed by FIN), it reads and
 *     discards what the client still sends, so the client's upload does not meet a reset that
 *     could destroy the response before the client reads it; then it closes. Zero closes at once
 * @param maxLingerBytes most bytes discarded while lingering; past them the connection closes
 */
public record ServerLimits(
        int maxRequestLineBytes,
        int maxHeaderBytes,
        int maxHeaderCount,
        long maxRequestBodyBytes,
        Duration headerReadTimeout,
        Duration idleTimeout,
        int maxConcurrentStreams,
        Duration http2IdleTimeout,
        Duration streamHeaderTimeout,
        Duration lingerTimeout,
        long maxLingerBytes) {

    /** Validates every limit, naming the one that is wrong. */
    public ServerLimits {
        Checks.positive(maxRequestLineBytes, "maxRequestLineBytes");
        Checks.positive(maxHeaderBytes, "maxHeaderBytes");
        Checks.positive(maxHeaderCount, "maxHeaderCount");
        Checks.positive(maxRequestBodyBytes, "maxRequestBodyBytes");
        Checks.positive(headerReadTimeout, "headerReadTimeout");
        Checks.positive(idleTimeout, "idleTimeout");
        Checks.positive(maxConcurrentStreams, "maxConcurrentStreams");
        Checks.positive(http2IdleTimeout, "http2IdleTimeout");
        Checks.positive(streamHeaderTimeout, "streamHeaderTimeout");
        Checks.nonNegative(lingerTimeout, "lingerTimeout");
        if (maxLingerBytes < 0) {
            throw new IllegalArgumentException("maxLingerBytes must not be negative, was " + maxLingerBytes);
        }
    }

    /**
     * 8 KiB request line, 16 KiB and 100 header fields, 10 MiB body, 10 s to read headers, 60 s idle,
     * 100 concurrent HTTP/2 streams, 5 min idle for an HTTP/2 connection (multiplexing clients keep
     * theirs open on purpose), 10 s to finish an HTTP/2 header block, and a lingering close of at
     * most 2 s and 4 MiB.
     */
    public static ServerLimits defaults() {
        return new ServerLimits(
                8192,
                16384,
                100,
                10L << 20,
                Duration.ofSeconds(10),
                Duration.ofSeconds(60),
                100,
                Duration.ofMinutes(5),
                Duration.ofSeconds(10),
                Duration.ofSeconds(2),
                4L << 20);
    }

    public ServerLimits withMaxRequestLineBytes(int value) {
        return new ServerLimits(
                value,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams,
                http2IdleTimeout,
                streamHeaderTimeout,
                lingerTimeout,
                maxLingerBytes);
    }

    public ServerLimits withMaxHeaderBytes(int value) {
        return new ServerLimits(
                maxRequestLineBytes,
                value,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams,
                http2IdleTimeout,
                streamHeaderTimeout,
                lingerTimeout,
                maxLingerBytes);
    }

    public ServerLimits withMaxHeaderCount(int value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                value,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams,
                http2IdleTimeout,
                streamHeaderTimeout,
                lingerTimeout,
                maxLingerBytes);
    }

    public ServerLimits withMaxRequestBodyBytes(long value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                value,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams,
                http2IdleTimeout,
                streamHeaderTimeout,
                lingerTimeout,
                maxLingerBytes);
    }

    public ServerLimits withHeaderReadTimeout(Duration value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                value,
                idleTimeout,
                maxConcurrentStreams,
                http2IdleTimeout,
                streamHeaderTimeout,
                lingerTimeout,
                maxLingerBytes);
    }

    public ServerLimits withIdleTimeout(Duration value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                value,
                maxConcurrentStreams,
                http2IdleTimeout,
                streamHeaderTimeout,
                lingerTimeout,
                maxLingerBytes);
    }

    public ServerLimits withMaxConcurrentStreams(int value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                value,
                http2IdleTimeout,
                streamHeaderTimeout,
                lingerTimeout,
                maxLingerBytes);
    }

    public ServerLimits withHttp2IdleTimeout(Duration value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams,
                value,
                streamHeaderTimeout,
                lingerTimeout,
                maxLingerBytes);
    }

    public ServerLimits withStreamHeaderTimeout(Duration value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams,
                http2IdleTimeout,
                value,
                lingerTimeout,
                maxLingerBytes);
    }

    public ServerLimits withLingerTimeout(Duration value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams,
                http2IdleTimeout,
                streamHeaderTimeout,
                value,
                maxLingerBytes);
    }

    public ServerLimits withMaxLingerBytes(long value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams,
                http2IdleTimeout,
                streamHeaderTimeout,
                lingerTimeout,
                value);
    }
}
