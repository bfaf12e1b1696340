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
 */
public record ServerLimits(
        int maxRequestLineBytes,
        int maxHeaderBytes,
        int maxHeaderCount,
        long maxRequestBodyBytes,
        Duration headerReadTimeout,
        Duration idleTimeout,
        int maxConcurrentStreams) {

    /** Validates every limit, naming the one that is wrong. */
    public ServerLimits {
        Checks.positive(maxRequestLineBytes, "maxRequestLineBytes");
        Checks.positive(maxHeaderBytes, "maxHeaderBytes");
        Checks.positive(maxHeaderCount, "maxHeaderCount");
        Checks.positive(maxRequestBodyBytes, "maxRequestBodyBytes");
        Checks.positive(headerReadTimeout, "headerReadTimeout");
        Checks.positive(idleTimeout, "idleTimeout");
        Checks.positive(maxConcurrentStreams, "maxConcurrentStreams");
    }

    /**
     * 8 KiB request line, 16 KiB and 100 header fields, 10 MiB body, 10 s to read headers, 60 s idle,
     * 100 concurrent HTTP/2 streams.
     */
    public static ServerLimits defaults() {
        return new ServerLimits(8192, 16384, 100, 10L << 20, Duration.ofSeconds(10), Duration.ofSeconds(60), 100);
    }

    public ServerLimits withMaxRequestLineBytes(int value) {
        return new ServerLimits(
                value,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams);
    }

    public ServerLimits withMaxHeaderBytes(int value) {
        return new ServerLimits(
                maxRequestLineBytes,
                value,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams);
    }

    public ServerLimits withMaxHeaderCount(int value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                value,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams);
    }

    public ServerLimits withMaxRequestBodyBytes(long value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                value,
                headerReadTimeout,
                idleTimeout,
                maxConcurrentStreams);
    }

    public ServerLimits withHeaderReadTimeout(Duration value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                value,
                idleTimeout,
                maxConcurrentStreams);
    }

    public ServerLimits withIdleTimeout(Duration value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                value,
                maxConcurrentStreams);
    }

    public ServerLimits withMaxConcurrentStreams(int value) {
        return new ServerLimits(
                maxRequestLineBytes,
                maxHeaderBytes,
                maxHeaderCount,
                maxRequestBodyBytes,
                headerReadTimeout,
                idleTimeout,
                value);
    }
}
