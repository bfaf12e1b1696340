package dev.belfry.proxy.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Reads the proxy's admin server over HTTP; a failed request is a status of -1, not an exception. */
final class AdminClient implements AutoCloseable {
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final String base;

    /** An answer: its status (-1 if none came) and body (or the failure). */
    record Answer(int status, String body) {}

    /** A backend's entry in {@code /health}. */
    record Backend(String state, boolean healthy, int activeConnections, long connectFailures) {}

    AdminClient(InetSocketAddress admin) {
        this.base = "http://127.0.0.1:" + admin.getPort();
    }

    Answer get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    Answer post(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.noBody()));
    }

    private Answer send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response =
                    http.send(request.timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(), response.body());
        } catch (IOException e) {
            return new Answer(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(-1, e.toString());
        }
    }

    /** The entry of the backend at {@code hostPort} in the {@code /health} document, or null. */
    @Nullable
    Backend backend(String hostPort) {
        return backend(get("/health").body(), hostPort);
    }

    static @Nullable Backend backend(String health, String hostPort) {
        Matcher m = Pattern.compile("\\{\"address\":\"" + Pattern.quote(hostPort)
                        + "\",\"state\":\"(\\w+)\",\"healthy\":(true|false),\"active_connections\":(\\d+),"
                        + "\"connect_failures\":(\\d+)")
                .matcher(health);
        if (!m.find()) {
            return null;
        }
        return new Backend(
                m.group(1), Boolean.parseBoolean(m.group(2)), Integer.parseInt(m.group(3)), Long.parseLong(m.group(4)));
    }

    /** The state of the backend at {@code hostPort} on {@code /health}, or "absent". */
    String state(String hostPort) {
        Backend backend = backend(hostPort);
        return backend == null ? "absent" : backend.state();
    }

    @Override
    public void close() {
        http.close();
    }
}
