package dev.belfry.proxy.admin;

import static io.netty.handler.codec.http.HttpResponseStatus.BAD_REQUEST;
import static io.netty.handler.codec.http.HttpResponseStatus.CONFLICT;
import static io.netty.handler.codec.http.HttpResponseStatus.FORBIDDEN;
import static io.netty.handler.codec.http.HttpResponseStatus.INTERNAL_SERVER_ERROR;
import static io.netty.handler.codec.http.HttpResponseStatus.NOT_FOUND;
import static io.netty.handler.codec.http.HttpResponseStatus.OK;
import static io.netty.handler.codec.http.HttpResponseStatus.SERVICE_UNAVAILABLE;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoints: maps a method and path to a {@link Reply}. Shared by all connections of one
 * server; thread-safe.
 */
final class Routes {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final String READ_ONLY = "GET, HEAD";
    /** How long {@code /live} waits for every I/O thread to answer. */
    static final Duration LIVE_WITHIN = Duration.ofSeconds(2);

    private final ProxyStatus status;
    private final PrometheusRegistry registry;
    private final PrometheusTextFormatWriter metricsWriter = PrometheusTextFormatWriter.create();
    // One reload at a time across all connections: a second POST while one runs gets 409.
    private final AtomicBoolean reloading = new AtomicBoolean();

    Routes(ProxyStatus status, PrometheusRegistry registry) {
        this.status = status;
        this.registry = registry;
    }

    /** The reply to a request; complete at once except for {@code POST /reload}. */
    CompletableFuture<Reply> route(HttpMethod method, String path, HttpHeaders headers) {
        try {
            return switch (path) {
                case "/" -> read(method, () -> Reply.of(OK, Reply.HTML, Dashboard.render(status)));
                case "/live" -> live(method);
                case "/ready" -> read(method, this::ready);
                case "/health" -> read(method, () -> Reply.of(OK, Reply.JSON, HealthJson.render(status) + "\n"));
                case "/metrics" -> read(method, this::metrics);
                case "/reload" ->
                    method.equals(HttpMethod.POST)
                            ? reload(headers)
                            : CompletableFuture.completedFuture(Reply.methodNotAllowed("POST"));
                default -> CompletableFuture.completedFuture(Reply.text(NOT_FOUND, "not found: " + path));
            };
        } catch (RuntimeException e) {
            // A failing status snapshot must not take the admin server down: answer and go on.
            log.warn("admin request {} {} failed", method, path, e);
            return CompletableFuture.completedFuture(Reply.text(INTERNAL_SERVER_ERROR, "internal error: " + e));
        }
    }

    private interface Page {
        Reply render();
    }

    private static CompletableFuture<Reply> read(HttpMethod method, Page page) {
        if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
            return CompletableFuture.completedFuture(Reply.methodNotAllowed(READ_ONLY));
        }
        return CompletableFuture.completedFuture(page.render());
    }

    private CompletableFuture<Reply> live(HttpMethod method) {
        if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
            return CompletableFuture.completedFuture(Reply.methodNotAllowed(READ_ONLY));
        }
        return status.unresponsiveIoThreads(LIVE_WITHIN)
                .thenApply(stuck -> stuck.isEmpty()
                        ? Reply.text(OK, "live")
                        : Reply.text(
                                SERVICE_UNAVAILABLE,
                                "not live: " + String.join(", ", stuck) + " did not answer within "
                                        + LIVE_WITHIN.toMillis() + " ms"))
                .toCompletableFuture();
    }

    private Reply ready() {
        List<String> reasons = Ready.reasons(status, status.clusters());
        return reasons.isEmpty()
                ? Reply.text(OK, "ready")
                : Reply.text(SERVICE_UNAVAILABLE, "not ready: " + String.join("; ", reasons));
    }

    private Reply metrics() {
        var out = new ByteArrayOutputStream(16 * 1024);
        try {
            metricsWriter.write(out, registry.scrape());
        } catch (IOException e) {
            // A ByteArrayOutputStream does not fail; this is here for the signature.
            throw new IllegalStateException(e);
        }
        return Reply.of(OK, metricsWriter.getContentType(), out.toByteArray());
    }

    private CompletableFuture<Reply> reload(HttpHeaders headers) {
        String refusal = crossOrigin(headers);
        if (refusal != null) {
            return CompletableFuture.completedFuture(Reply.text(FORBIDDEN, refusal));
        }
        if (!reloading.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(Reply.text(CONFLICT, "a reload is already in progress"));
        }
        var reply = new CompletableFuture<Reply>();
        // The hook may block (it reads files and binds sockets), so it never runs on an event loop.
        Thread.ofVirtual().name("belfry-admin-reload").start(() -> {
            Reply answer;
            try {
                answer = reloadReply(status.reload());
            } catch (Throwable e) {
                log.warn("reload failed", e);
                answer = Reply.text(INTERNAL_SERVER_ERROR, "reload failed: " + e);
            }
            // Cleared before answering, so a client that POSTs again right after its answer is not
            // told a reload is still in progress.
            reloading.set(false);
            reply.complete(answer);
        });
        return reply;
    }

    private static Reply reloadReply(ReloadResult result) {
        if (result.ok()) {
            return Reply.text(OK, "reloaded");
        }
        return Reply.text(
                BAD_REQUEST,
                "reload rejected; the previous configuration keeps running:\n" + String.join("\n", result.problems()));
    }

    /**
     * Why a browser-sent cross-site POST is refused, or null to go on. A page on another site can make
     * a browser POST to a loopback address; browsers always send {@code Origin} on such requests, so a
     * request whose origin is not this server itself is refused. Clients such as curl send none.
     */
    private static @Nullable String crossOrigin(HttpHeaders headers) {
        String origin = headers.get(HttpHeaderNames.ORIGIN);
        if (origin == null) {
            return null;
        }
        String host = headers.get(HttpHeaderNames.HOST);
        try {
            URI uri = new URI(origin);
            String authority = uri.getRawAuthority();
            if (host != null
                    && authority != null
                    && ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
                    && authority.toLowerCase(Locale.ROOT).equals(host.toLowerCase(Locale.ROOT))) {
                return null;
            }
        } catch (URISyntaxException e) {
            // Falls through to the refusal: an unreadable origin is not our own.
        }
        return "cross-origin reload refused (Origin " + origin + ")";
    }
}
