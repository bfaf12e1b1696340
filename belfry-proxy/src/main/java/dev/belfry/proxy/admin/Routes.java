package dev.belfry.proxy.admin;

import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.Body;
import dev.belfry.http.BodyTooLargeException;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.router.Router;
import dev.belfry.time.Clock;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoints as a belfry-http {@link Router}, wrapped by a service that adds the headers
 * every admin response carries. Shared by all connections of one server; thread-safe.
 *
 * <p>{@code HEAD} is served by the {@code GET} routes (the server sends no body); a known path
 * asked with another method gets the router's 405 with {@code Allow}; an unknown path gets 404.
 */
final class Routes implements Service<HttpRequest, HttpResponse> {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    /** How long {@code /live} waits for every I/O thread to answer. */
    static final Duration LIVE_WITHIN = Duration.ofSeconds(2);

    static final String TEXT = HttpResponse.TEXT_UTF8;
    static final String JSON = "application/json; charset=utf-8";
    static final String HTML = "text/html; charset=utf-8";
    // The dashboard has inline CSS and a form that posts to /reload, nothing else.
    static final String CSP =
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

    private final ProxyStatus status;
    private final PrometheusRegistry registry;
    private final Duration bodyWithin;
    private final Clock clock;
    private final PrometheusTextFormatWriter metricsWriter = PrometheusTextFormatWriter.create();
    private final Router router;
    // One reload at a time across all connections: a second POST while one runs gets 409.
    private final AtomicBoolean reloading = new AtomicBoolean();

    /**
     * Routes for {@code status} and {@code registry}; a {@code POST /reload} body must arrive
     * within {@code bodyWithin} (the server's own timeouts end when the request head is read).
     */
    Routes(ProxyStatus status, PrometheusRegistry registry, Duration bodyWithin, Clock clock) {
        this.status = status;
        this.registry = registry;
        this.bodyWithin = bodyWithin;
        this.clock = clock;
        this.router = Router.builder()
                .get("/", request -> page(() -> reply(200, HTML, Dashboard.render(status))))
                .get("/live", request -> live())
                .get("/ready", request -> page(this::ready))
                .get(
                        "/health",
                        request -> page(
                                () -> reply(200, JSON, concat(AdminJson.write(HealthDocument.of(status)), NEWLINE))))
                .get("/metrics", request -> page(this::metrics))
                .post("/reload", this::reload)
                .fallback(request -> {
                    request.body().discard();
                    return CompletableFuture.completedFuture(text(404, "not found: " + request.path()));
                })
                .build();
    }

    private static final byte[] NEWLINE = {'\n'};

    /**
     * Answers every page once in this process and drops the answers, so that the classes they
     * need (the pages' records, Jackson's serializers for them, the metrics writer, the 404 and 405
     * answers) are loaded before the server listens. A class still to be loaded from a directory
     * or an unopened jar needs a file descriptor: without this, a probe that the server's reserve
     * descriptor lets in while the process has none left would get a 500 for a page not asked for
     * before. {@code POST /reload} is not warmed (it would reload); its answers are plain text like
     * the others. Failures are dropped here: the same request fails again, and is logged, when a
     * client asks.
     */
    void warm() {
        List<HttpRequest> requests = List.of(
                HttpRequest.get("/"),
                HttpRequest.get("/live"),
                HttpRequest.get("/ready"),
                HttpRequest.get("/health"),
                HttpRequest.get("/metrics"),
                HttpRequest.get("/warm-up"),
                HttpRequest.builder(HttpMethod.DELETE, "/live").build());
        for (HttpRequest request : requests) {
            call(request).whenComplete((response, failure) -> {
                if (response != null) {
                    response.body().discard();
                }
            });
        }
        // The live state may lack a reload, an error or a backend: a document with one of each
        // builds the serializers of every record in it.
        AdminJson.write(new HealthDocument(
                false,
                List.of("warming up"),
                true,
                false,
                new HealthDocument.Reload(true, "1970-01-01T00:00:00Z", List.of()),
                List.of(new HealthDocument.Listener("web", "127.0.0.1:0", "app", 0, 0, 0)),
                List.of(new HealthDocument.Cluster(
                        "app",
                        0,
                        List.of(new HealthDocument.Backend("127.0.0.1:0", "down", false, 0, 0, "none", 0, 0)))),
                List.of(new HealthDocument.ErrorEntry("1970-01-01T00:00:00Z", "warm-up", "none"))));
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        return Futures.call(router, request).thenApply(Routes::withAdminHeaders);
    }

    /** Every admin response: never cached, never sniffed, never framed, no foreign resources. */
    private static HttpResponse withAdminHeaders(HttpResponse response) {
        return response.toBuilder()
                .setHeader("cache-control", "no-store")
                .setHeader("x-content-type-options", "nosniff")
                .setHeader("content-security-policy", CSP)
                .build();
    }

    static HttpResponse reply(int status, String contentType, byte[] body) {
        return HttpResponse.status(status)
                .setHeader("content-type", contentType)
                .body(Body.of(body))
                .build();
    }

    static HttpResponse reply(int status, String contentType, String body) {
        return reply(status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** A plain-text reply; a line end is added. */
    static HttpResponse text(int status, String body) {
        return reply(status, TEXT, body + "\n");
    }

    private static byte[] concat(byte[] first, byte[] second) {
        byte[] both = new byte[first.length + second.length];
        System.arraycopy(first, 0, both, 0, first.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        return both;
    }

    /** A page rendered now; a failing status snapshot answers 500 and the server goes on. */
    private static CompletableFuture<HttpResponse> page(Supplier<HttpResponse> render) {
        try {
            return CompletableFuture.completedFuture(render.get());
        } catch (RuntimeException e) {
            log.warn("admin request failed", e);
            return CompletableFuture.completedFuture(text(500, "internal error: " + e));
        }
    }

    private CompletableFuture<HttpResponse> live() {
        return status.unresponsiveIoThreads(LIVE_WITHIN)
                .thenApply(stuck -> stuck.isEmpty()
                        ? text(200, "live")
                        : text(
                                503,
                                "not live: " + String.join(", ", stuck) + " did not answer within "
                                        + LIVE_WITHIN.toMillis() + " ms"))
                .toCompletableFuture();
    }

    private HttpResponse ready() {
        List<String> reasons = Ready.reasons(status, status.clusters());
        return reasons.isEmpty() ? text(200, "ready") : text(503, "not ready: " + String.join("; ", reasons));
    }

    private HttpResponse metrics() {
        var out = new ByteArrayOutputStream(16 * 1024);
        try {
            metricsWriter.write(out, registry.scrape());
        } catch (IOException e) {
            // A ByteArrayOutputStream does not fail; this is here for the signature.
            throw new IllegalStateException(e);
        }
        return reply(200, metricsWriter.getContentType(), out.toByteArray());
    }

    private CompletableFuture<HttpResponse> reload(HttpRequest request) {
        // The body is read (and dropped) first: one over the limit is a 413 that never reaches the
        // hook, and one that does not arrive in time is a 408.
        CompletableFuture<byte[]> body = request.body().collectBytes(AdminServer.MAX_CONTENT_LENGTH);
        var late = new AtomicBoolean();
        // Cancelling the collection cancels the body's stream: the server closes after answering.
        Clock.Scheduled timer = clock.schedule(bodyWithin, () -> {
            late.set(true);
            body.cancel(false);
        });
        return body.handle((bytes, failure) -> {
                    timer.cancel();
                    if (failure == null) {
                        return startReload(request);
                    }
                    Throwable cause = Futures.unwrap(failure);
                    if (late.get()) {
                        return CompletableFuture.completedFuture(text(408, "request body not received in time"));
                    }
                    if (cause instanceof BodyTooLargeException) {
                        return CompletableFuture.completedFuture(text(413, "request body too large"));
                    }
                    return CompletableFuture.<HttpResponse>failedFuture(cause);
                })
                .thenCompose(answer -> answer);
    }

    private CompletableFuture<HttpResponse> startReload(HttpRequest request) {
        String refusal = crossOrigin(request);
        if (refusal != null) {
            return CompletableFuture.completedFuture(text(403, refusal));
        }
        if (!reloading.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(text(409, "a reload is already in progress"));
        }
        var reply = new CompletableFuture<HttpResponse>();
        // The hook may block (it reads files and binds sockets), so it never runs on an event loop.
        Thread.ofVirtual().name("belfry-admin-reload").start(() -> {
            HttpResponse answer;
            try {
                answer = reloadReply(status.reload());
            } catch (Throwable e) {
                log.warn("reload failed", e);
                answer = text(500, "reload failed: " + e);
            }
            // Cleared before answering, so a client that POSTs again right after its answer is not
            // told a reload is still in progress.
            reloading.set(false);
            reply.complete(answer);
        });
        return reply;
    }

    private static HttpResponse reloadReply(ReloadResult result) {
        if (result.ok()) {
            return text(200, "reloaded");
        }
        return text(
                400,
                "reload rejected; the previous configuration keeps running:\n" + String.join("\n", result.problems()));
    }

    /**
     * Why a browser-sent cross-site POST is refused, or null to go on. A page on another site can make
     * a browser POST to a loopback address; browsers always send {@code Origin} on such requests, so a
     * request whose origin is not this server itself is refused. Clients such as curl send none.
     */
    private static @Nullable String crossOrigin(HttpRequest request) {
        String origin = request.header("origin");
        if (origin == null) {
            return null;
        }
        String host = request.header("host");
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

    @Override
    public void close() {
        router.close();
    }
}
