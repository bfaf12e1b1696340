package dev.belfry.http.health;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.health.registry.CheckResult;
import dev.belfry.health.registry.DependencyHealth;
import dev.belfry.health.registry.HealthRegistry;
import dev.belfry.health.registry.HealthReport;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.router.Router;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * The {@code /health}, {@code /ready} and {@code /live} endpoints over a {@link HealthRegistry}.
 *
 * <pre>{@code
 * HealthRoutes health = HealthRoutes.builder(registry).version("1.4.2").build();
 * Router app = health.addTo(Router.builder())        // GET /health, /ready, /live
 *         .get("/users/{id}", getUser)
 *         .build();
 * // or under a prefix:  Router.builder().nest("/admin", health.router())
 * // or at paths of your own:  .get("/healthz", health.health())
 * }</pre>
 *
 * <ul>
 *   <li>{@code /health}: the registry's report as JSON, {@code {"status", "version", "draining",
 *       "dependencies": [{"name", "status", "required", "latency_ms", "message", "since"}]}}; 200
 *       when healthy or degraded, 503 when unhealthy or unknown (still starting).
 *   <li>{@code /ready}: 200 {@code ready} when every required dependency is healthy or degraded and
 *       the registry is not draining; otherwise 503 with the reasons in a line of text.
 *   <li>{@code /live}: 200 {@code alive} while the {@link LivenessProbe} passes (by default, while
 *       the process answers at all); 503 with the reason if it fails, throws or takes longer than
 *       the liveness timeout (1 s).
 * </ul>
 *
 * <p>Each answer only reads the registry's last results: no check runs on a request's path. Every
 * answer carries {@code Cache-Control: no-store}. Thread-safe.
 */
public final class HealthRoutes {
    private final HealthRegistry registry;
    private final String version;
    private final LivenessProbe liveness;
    private final Duration livenessTimeout;
    private final Clock clock;
    private final InstantSource wallClock;

    private HealthRoutes(Builder builder) {
        this.registry = builder.registry;
        this.version = builder.version;
        this.liveness = builder.liveness;
        this.livenessTimeout = builder.livenessTimeout;
        this.clock = builder.clock != null ? builder.clock : Clock.system();
        this.wallClock = builder.wallClock != null ? builder.wallClock : InstantSource.system();
    }

    /** A builder of the routes over {@code registry}. */
    public static Builder builder(HealthRegistry registry) {
        return new Builder(registry);
    }

    /** Adds {@code GET /health}, {@code /ready} and {@code /live} to {@code routes} and returns it. */
    public Router.Builder addTo(Router.Builder routes) {
        Checks.notNull(routes, "routes");
        return routes.get("/health", health()).get("/ready", ready()).get("/live", live());
    }

    /** A router of {@code /health}, {@code /ready} and {@code /live}, to nest under a prefix. */
    public Router router() {
        return addTo(Router.builder()).build();
    }

    /** The {@code /health} service: the report as JSON. */
    public Service<HttpRequest, HttpResponse> health() {
        return request -> {
            request.body().discard();
            HealthReport report = registry.report();
            int status = report.status().isUp() ? 200 : 503;
            return CompletableFuture.completedFuture(HttpResponse.status(status)
                    .header("cache-control", "no-store")
                    .json(toJson(report))
                    .build());
        };
    }

    /** The {@code /ready} service. */
    public Service<HttpRequest, HttpResponse> ready() {
        return request -> {
            request.body().discard();
            HealthReport report = registry.report();
            if (report.ready()) {
                return CompletableFuture.completedFuture(text(200, "ready\n"));
            }
            List<String> reasons = new ArrayList<>();
            if (report.draining()) {
                reasons.add("draining");
            }
            for (DependencyHealth dependency : report.dependencies()) {
                if (dependency.blocksReadiness()) {
                    String message = dependency.message();
                    reasons.add(dependency.name() + " " + dependency.status().wireName()
                            + (message == null ? "" : " (" + message + ")"));
                }
            }
            return CompletableFuture.completedFuture(text(503, "not ready: " + String.join(", ", reasons) + "\n"));
        };
    }

    /** The {@code /live} service. */
    public Service<HttpRequest, HttpResponse> live() {
        return request -> {
            request.body().discard();
            CompletableFuture<HttpResponse> answer = new CompletableFuture<>();
            CompletableFuture<CheckResult> probe;
            try {
                var stage = liveness.check();
                probe = stage != null
                        ? stage.toCompletableFuture()
                        : Futures.failed(new NullPointerException("the liveness probe returned a null future"));
            } catch (RuntimeException e) {
                probe = Futures.failed(e);
            }
            CompletableFuture<CheckResult> started = probe;
            Clock.Scheduled timer = clock.schedule(livenessTimeout, () -> {
                if (answer.complete(text(
                        503,
                        "not alive: the liveness probe timed out after " + livenessTimeout.toMillis() + " ms\n"))) {
                    started.cancel(false);
                }
            });
            started.whenComplete((result, failure) -> {
                timer.cancel();
                answer.complete(livenessAnswer(result, failure));
            });
            answer.whenComplete((response, failure) -> {
                if (answer.isCancelled()) {
                    // The client went away: stop the timer and abandon the probe.
                    timer.cancel();
                    started.cancel(false);
                }
            });
            return answer;
        };
    }

    private static HttpResponse livenessAnswer(@Nullable CheckResult result, @Nullable Throwable failure) {
        if (failure != null) {
            Throwable cause = Futures.unwrap(failure);
            String message = cause.getMessage();
            return text(503, "not alive: " + (message == null ? cause.getClass().getSimpleName() : message) + "\n");
        }
        if (result == null) {
            return text(503, "not alive: the liveness probe completed without a result\n");
        }
        if (!result.passed()) {
            return text(503, "not alive: " + result.message() + "\n");
        }
        String message = result.message();
        return text(200, message == null ? "alive\n" : "alive: " + message + "\n");
    }

    private static HttpResponse text(int status, String text) {
        return HttpResponse.status(status)
                .header("cache-control", "no-store")
                .text(text)
                .build();
    }

    /** The seed's shape, in a stable key order; {@code null}s are written as JSON nulls. */
    private Map<String, Object> toJson(HealthReport report) {
        // The registry's times are monotonic; shown as wall-clock instants relative to now.
        Instant now = wallClock.instant();
        List<Map<String, Object>> dependencies =
                new ArrayList<>(report.dependencies().size());
        for (DependencyHealth dependency : report.dependencies()) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("name", dependency.name());
            fields.put("status", dependency.status().wireName());
            fields.put("required", dependency.required());
            Duration latency = dependency.latency();
            fields.put("latency_ms", latency == null ? null : latency.toMillis());
            fields.put("message", dependency.message());
            fields.put("since", now.minus(report.timeInStatus(dependency)).toString());
            dependencies.add(fields);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", report.status().wireName());
        body.put("version", version);
        body.put("draining", report.draining());
        body.put("dependencies", dependencies);
        return body;
    }

    /** Settings for {@link HealthRoutes}; not thread-safe. */
    public static final class Builder {
        private final HealthRegistry registry;
        private String version = "unknown";
        private LivenessProbe liveness = LivenessProbe.answering();
        private Duration livenessTimeout = Duration.ofSeconds(1);
        private @Nullable Clock clock;
        private @Nullable InstantSource wallClock;
        private final List<String> set = new ArrayList<>();

        private Builder(HealthRegistry registry) {
            this.registry = Checks.notNull(registry, "registry");
        }

        private void once(String name) {
            if (set.contains(name)) {
                throw new IllegalStateException(name + " was already set");
            }
            set.add(name);
        }

        /** The version {@code /health} reports; {@code "unknown"} unless set. */
        public Builder version(String value) {
            once("version");
            this.version = Checks.notNull(value, "version");
            return this;
        }

        /** What {@code /live} asks; {@link LivenessProbe#answering()} unless set. */
        public Builder liveness(LivenessProbe probe) {
            once("liveness");
            this.liveness = Checks.notNull(probe, "liveness");
            return this;
        }

        /** How long {@code /live} waits for the probe before answering 503; 1 s unless set. */
        public Builder livenessTimeout(Duration value) {
            once("livenessTimeout");
            this.livenessTimeout = Checks.positive(value, "livenessTimeout");
            return this;
        }

        /** The clock for the liveness timeout; the system clock unless set. */
        public Builder clock(Clock value) {
            once("clock");
            this.clock = Checks.notNull(value, "clock");
            return this;
        }

        /** The wall clock that turns {@code since} into an instant; the system's unless set. */
        public Builder wallClock(InstantSource value) {
            once("wallClock");
            this.wallClock = Checks.notNull(value, "wallClock");
            return this;
        }

        /** The routes. */
        public HealthRoutes build() {
            return new HealthRoutes(this);
        }
    }
}
