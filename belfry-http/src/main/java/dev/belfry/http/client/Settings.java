package dev.belfry.http.client;

import dev.belfry.time.Clock;
import java.time.Duration;

/** A client's settings, defaults applied; validated by {@link HttpClient.Builder}. */
record Settings(
        String host,
        int port,
        Protocol protocol,
        int maxConnections,
        int maxPending,
        Duration connectTimeout,
        Duration responseHeadersTimeout,
        Duration bodyIdleTimeout,
        Duration idleTimeout,
        Clock clock) {

    /** The origin as a URI prefix, such as {@code http://127.0.0.1:8080}, for messages. */
    String origin() {
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return "http://" + h + ":" + port;
    }

    /** The value of the {@code Host} header (and HTTP/2 {@code :authority}). */
    String authority() {
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return port == 80 ? h : h + ":" + port;
    }
}
