package dev.belfry.http.client;

import dev.belfry.ServiceException;
import java.time.Duration;

/**
 * One of the client's timers ran out: the message names the origin, the phase and the limit.
 *
 * <p>A connect that timed out was never sent, so it surfaces wrapped in the core's {@link
 * dev.belfry.reconnect.ConnectFailedException} (an {@link dev.belfry.UnprocessedException}); the
 * other phases may have reached the server and surface as this exception itself: from the response
 * future while its headers are awaited, from the body once the headers have arrived.
 */
public final class PhaseElapsedException extends ServiceException {
    private static final long serialVersionUID = 1L;

    /** What the client was waiting for when its timer ran out. */
    public enum Phase {
        /** The TCP connection to the origin. */
        CONNECT("no connection"),
        /** The response's status line and headers, once the request was written whole. */
        RESPONSE_HEADERS("no response headers"),
        /** The next bytes of a body, while the peer was expected to move it. */
        BODY_IDLE("no body progress");

        private final String description;

        Phase(String description) {
            this.description = description;
        }
    }

    private final String origin;
    private final Phase phase;
    private final Duration limit;

    public PhaseElapsedException(String origin, Phase phase, Duration limit) {
        super(origin + ": " + phase.description + " within " + limit.toMillis() + " ms (" + phase + " timeout)");
        this.origin = origin;
        this.phase = phase;
        this.limit = limit;
    }

    /** The origin the client calls, such as {@code http://127.0.0.1:8080}. */
    public String origin() {
        return origin;
    }

    /** The phase whose timer ran out. */
    public Phase phase() {
        return phase;
    }

    /** The limit that elapsed. */
    public Duration limit() {
        return limit;
    }
}
