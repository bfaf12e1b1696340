package dev.belfry.compose;

import dev.belfry.OverloadedException;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.UnprocessedException;
import dev.belfry.backoff.Backoff;
import dev.belfry.balance.Balancer;
import dev.belfry.balance.EndpointStats;
import dev.belfry.breaker.CircuitBreaker;
import dev.belfry.breaker.CircuitBreakerLayer;
import dev.belfry.coalesce.CoalesceLayer;
import dev.belfry.compose.Scenario.Add;
import dev.belfry.compose.Scenario.Advance;
import dev.belfry.compose.Scenario.Balanced;
import dev.belfry.compose.Scenario.Call;
import dev.belfry.compose.Scenario.Cancel;
import dev.belfry.compose.Scenario.EndpointSpec;
import dev.belfry.compose.Scenario.Kind;
import dev.belfry.compose.Scenario.LayerSpec;
import dev.belfry.compose.Scenario.Op;
import dev.belfry.compose.Scenario.Outcome;
import dev.belfry.compose.Scenario.Remove;
import dev.belfry.compose.Scenario.Single;
import dev.belfry.compose.Scenario.Steered;
import dev.belfry.discover.DiscoverSource;
import dev.belfry.health.HealthCheck;
import dev.belfry.health.HealthMonitor;
import dev.belfry.hedge.HedgeLayer;
import dev.belfry.limit.ConcurrencyLimit;
import dev.belfry.limit.Permits;
import dev.belfry.limit.RateLimit;
import dev.belfry.limit.RateLimiter;
import dev.belfry.load.Load;
import dev.belfry.load.PeakEwma;
import dev.belfry.reconnect.Reconnect;
import dev.belfry.retry.RetryLayer;
import dev.belfry.retry.RetryPolicy;
import dev.belfry.shed.LoadShed;
import dev.belfry.steer.Steer;
import dev.belfry.test.ManualClock;
import dev.belfry.timeout.Timeout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Builds a {@link Scenario}'s stack on a {@link ManualClock}, plays its script, lets it settle, and
 * checks the contract every composition must keep. Single-threaded and deterministic: everything
 * random is drawn from the scenario's seed.
 *
 * <p>The checks, each reported with a tag:
 *
 * <ul>
 *   <li>{@code [liveness]}: once the clock has passed every configured bound (and hung endpoints
 *       were let go), every caller's future has completed or been cancelled by its caller; with a
 *       timeout outermost, already when that timeout has passed, hung endpoints or not. (Settling
 *       lets hung endpoint calls answer and puts removed endpoints back into discovery.)
 *   <li>{@code [at-most-once]}: a request not marked idempotent reached endpoints at most once
 *       (attempts refused before sending, with {@code UnprocessedException}, do not count).
 *   <li>{@code [resources]}: every permit and token queue, buffer slot, balancer in-flight count
 *       and endpoint call is back to zero, and no breaker is stuck busy.
 *   <li>{@code [responses]}: every response no caller received was closed; one a caller received
 *       was not closed under it (unless coalescing shares it, which the contract allows).
 *   <li>{@code [close]}: after {@code close()}, no timer is left scheduled and every connection
 *       the stack opened was closed.
 *   <li>{@code [contract]}: {@code call} never throws.
 * </ul>
 */
final class Run {
    /** Longer than every configured bound of a generated stack, but for defect 1's long waits. */
    static final Duration SETTLE_STEP = Duration.ofSeconds(5);

    private static final int SETTLE_ROUNDS = 40;

    private final Scenario scenario;
    private final ManualClock clock = new ManualClock();
    private final Random random;
    private final List<String> violations = new ArrayList<>();

    private final List<Scripted> endpoints = new ArrayList<>();
    private final List<Link> links = new ArrayList<>();
    private final List<Res> responses = new ArrayList<>();
    private final Map<Integer, Integer> reached = new HashMap<>();
    private final Map<Integer, Req> requests = new HashMap<>();
    private final Map<Integer, CompletableFuture<Res>> callers = new LinkedHashMap<>();
    private final Set<Integer> cancelledByCaller = new HashSet<>();

    private final List<Permits> permits = new ArrayList<>();
    private final List<RateLimiter> limiters = new ArrayList<>();
    private final List<dev.belfry.buffer.Buffer<Req, Res>> buffers = new ArrayList<>();
    /** Each breaker with the service it wraps, to tell its own busyness from its inner service's. */
    private final Map<CircuitBreaker<Req, Res>, Service<Req, Res>> breakers = new LinkedHashMap<>();

    private @Nullable Balancer<Req, Res> balancer;
    private @Nullable DiscoverSource<Integer, Integer> discovery;
    private final Set<Integer> brokenConnects = new HashSet<>();
    private boolean coalescing;

    private Run(Scenario scenario) {
        this.scenario = scenario;
        this.random = new Random(scenario.seed());
    }

    /** Plays {@code scenario} and returns the contract violations found, empty if none. */
    static List<String> play(Scenario scenario) {
        Run run = new Run(scenario);
        try {
            run.playAll();
        } catch (RuntimeException | Error e) {
            // A failure of the harness or an escaped exception: reported, never swallowed.
            run.violations.add("[crash] " + e + " at " + firstFrames(e));
        }
        return run.violations;
    }

    private static String firstFrames(Throwable e) {
        StackTraceElement[] trace = e.getStackTrace();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < Math.min(4, trace.length); i++) {
            text.append(i == 0 ? "" : " < ").append(trace[i]);
        }
        return text.toString();
    }

    private void playAll() {
        for (EndpointSpec spec : scenario.backend().endpoints()) {
            endpoints.add(new Scripted(spec));
        }
        Service<Req, Res> stack = backend();
        List<LayerSpec> layers = scenario.layers();
        for (int i = layers.size() - 1; i >= 0; i--) {
            stack = wrap(layers.get(i), stack);
        }
        for (Op op : scenario.ops()) {
            apply(op, stack);
        }
        settle();
        check();
        stack.close();
        clock.runDue();
        checkClosed();
    }

    // ---- building the stack ------------------------------------------------------------------

    private Service<Req, Res> backend() {
        return switch (scenario.backend()) {
            case Single single -> endpointService(endpoints.get(0));
            case Steered steered -> {
                List<Service<Req, Res>> services = new ArrayList<>();
                for (Scripted endpoint : endpoints) {
                    services.add(endpointService(endpoint));
                }
                yield Steer.of(services, (request, count) -> request.key() % count);
            }
            case Balanced balanced -> balancer(balanced);
        };
    }

    private Balancer<Req, Res> balancer(Balanced spec) {
        DiscoverSource<Integer, Integer> source = DiscoverSource.create();
        for (Scripted endpoint : endpoints) {
            source.put(endpoint.spec.index(), endpoint.spec.weight());
        }
        HealthMonitor<Integer> monitor = spec.health() ? monitor(spec) : null;
        Balancer.Builder<Integer, Integer, Req, Res> builder = Balancer.builder(
                        source, (Integer key, Integer weight) -> {
                            if (brokenConnects.remove(key)) {
                                throw new ConnectBug("connect of e" + key + " failed with an Error (a user bug)");
                            }
                            Scripted endpoint = endpoints.get(key);
                            Service<Req, Res> service = endpointService(endpoint);
                            if (monitor == null) {
                                return service;
                            }
                            return spec.checks().isEmpty()
                                    ? monitor.monitor(key, service)
                                    : monitor.monitor(key, service, endpoint.check(spec.checks()));
                        })
                .weight(weight -> weight)
                .clock(clock)
                .random(random);
        builder = switch (spec.strategy()) {
            case "p2c" -> builder.p2c();
            case "p2c-pending" -> builder.p2c(Load.pending());
            case "roundRobin" -> builder.roundRobin();
            case "weightedRoundRobin" -> builder.weightedRoundRobin();
            case "weightedRandom" -> builder.weightedRandom();
            case "leastConnections" -> builder.leastConnections();
            case "consistentHash" -> builder.consistentHash(Req::key);
            case "p2c-ewma-pushback" ->
                builder.p2c(PeakEwma.<Req, Res>builder()
                        .clock(clock)
                        .failurePenalty(Duration.ofMillis(100))
                        .pushback(response -> {
                            if (spec.throwingPredicates() && response.request.key() == 0) {
                                throw new IllegalStateException("the pushback test's bug, on " + response);
                            }
                            return false;
                        })
                        .build());
            default -> throw new IllegalArgumentException(spec.strategy());
        };
        builder = spec.maxWaitMs() == 0 ? builder.failFast() : builder.maxWait(Duration.ofMillis(spec.maxWaitMs()));
        Balancer<Req, Res> built = builder.build();
        balancer = built;
        discovery = source;
        return built;
    }

    private HealthMonitor<Integer> monitor(Balanced spec) {
        Predicate<Throwable> isFailure = failure -> {
            if (spec.throwingPredicates() && failure instanceof EndpointFailure f && f.request.key() == 0) {
                throw new IllegalStateException("the failure test's bug, on " + f.request);
            }
            return !(failure instanceof OverloadedException);
        };
        return HealthMonitor.<Integer>builder()
                .clock(clock)
                .random(random)
                .interval(Duration.ofSeconds(1))
                .jitter(Duration.ofMillis(100))
                .timeout(Duration.ofMillis(200))
                .rise(1)
                .fall(1)
                .consecutiveFailures(2)
                .ejection(Duration.ofMillis(50), Duration.ofMillis(500))
                .maxEjectedFraction(0.5)
                .failureTest(isFailure)
                .build();
    }

    /** The endpoint's per-endpoint layers over a reconnect or a plain connection to it. */
    private Service<Req, Res> endpointService(Scripted endpoint) {
        EndpointSpec spec = endpoint.spec;
        Service<Req, Res> service;
        Scenario.ReconnectSpec reconnect = spec.reconnect();
        if (reconnect != null) {
            int[] attempts = {0};
            service = Reconnect.<Req, Res>builder(() -> {
                        boolean ok = reconnect
                                .connects()
                                .get(attempts[0]++ % reconnect.connects().size());
                        if (!ok) {
                            return CompletableFuture.failedFuture(
                                    new IllegalStateException("e" + spec.index() + " refused the connection"));
                        }
                        return CompletableFuture.completedFuture(link(endpoint, reconnect.dropAfterCalls()));
                    })
                    .clock(clock)
                    .backoff(Backoff.exponential(Duration.ofMillis(1), Duration.ofMillis(100), random))
                    .policy(reconnect.failFast() ? Reconnect.Policy.FAIL_FAST : Reconnect.Policy.WAIT)
                    .build();
        } else {
            service = link(endpoint, 0);
        }
        List<LayerSpec> guards = spec.guards();
        for (int i = guards.size() - 1; i >= 0; i--) {
            service = wrap(guards.get(i), service);
        }
        return service;
    }

    private Link link(Scripted endpoint, int dropAfterCalls) {
        Link link = new Link(endpoint, dropAfterCalls, links.size());
        links.add(link);
        return link;
    }

    private Service<Req, Res> wrap(LayerSpec layer, Service<Req, Res> inner) {
        return switch (layer) {
            case Scenario.Timeout t -> new Timeout<>(inner, Duration.ofMillis(t.ms()), clock);
            case Scenario.Limit l -> {
                Permits p = Permits.of(l.max(), l.queue() < 0 ? Permits.UNBOUNDED_QUEUE : l.queue());
                permits.add(p);
                yield new ConcurrencyLimit<>(inner, p);
            }
            case Scenario.Shed s -> new LoadShed<>(inner);
            case Scenario.Rate r -> {
                RateLimiter limiter = RateLimiter.builder()
                        .rate(1, Duration.ofMillis(r.perMs()))
                        .burst(r.burst())
                        .maxQueued(r.queue() < 0 ? Permits.UNBOUNDED_QUEUE : r.queue())
                        .clock(clock)
                        .build();
                limiters.add(limiter);
                yield new RateLimit<>(inner, limiter);
            }
            case Scenario.Buffer b -> {
                dev.belfry.buffer.Buffer<Req, Res> buffer = new dev.belfry.buffer.Buffer<>(inner, b.capacity(), clock);
                buffers.add(buffer);
                yield buffer;
            }
            case Scenario.Retry r -> {
                RetryPolicy.Builder<Req, Res> policy = RetryPolicy.<Req, Res>standard()
                        .maxAttempts(r.maxAttempts())
                        .backoff(Backoff.exponential(Duration.ofMillis(1), Duration.ofMillis(50), random));
                if (r.marksIdempotent()) {
                    policy.idempotent(Req::idempotent);
                }
                if (r.anyFailure()) {
                    policy.retryOn(failure -> true);
                }
                if (r.attemptTimeoutMs() > 0) {
                    policy.attemptTimeout(Duration.ofMillis(r.attemptTimeoutMs()));
                }
                yield RetryLayer.of(policy.build(), clock).wrap(inner);
            }
            case Scenario.Hedge h ->
                HedgeLayer.<Req, Res>builder(Req::idempotent)
                        .minSamples(h.minSamples())
                        .maxExtra(h.maxExtra())
                        .window(Duration.ofMillis(100))
                        .clock(clock)
                        .build()
                        .wrap(inner);
            case Scenario.Breaker b -> {
                CircuitBreaker<Req, Res> breaker = CircuitBreakerLayer.<Req, Res>builder()
                        .consecutiveFailures(b.consecutiveFailures())
                        .halfOpenCalls(b.halfOpenCalls())
                        .openInterval(Backoff.exponential(Duration.ofMillis(10), Duration.ofMillis(200), random))
                        .clock(clock)
                        .build()
                        .wrap(inner);
                breakers.put(breaker, inner);
                yield breaker;
            }
            case Scenario.Coalesce c -> {
                coalescing = true;
                CoalesceLayer.Builder<Req, Res> builder =
                        CoalesceLayer.<Req, Res>builder(request -> request.idempotent() ? request.key() : null);
                if (c.cacheMs() > 0) {
                    builder.cacheFor(Duration.ofMillis(c.cacheMs()));
                }
                yield builder.clock(clock).build().wrap(inner);
            }
        };
    }

    // ---- playing the script ------------------------------------------------------------------

    private void apply(Op op, Service<Req, Res> stack) {
        switch (op) {
            case Call call -> {
                Req request = call.request();
                requests.put(request.id(), request);
                CompletableFuture<Res> future;
                try {
                    future = stack.call(request);
                } catch (RuntimeException | Error e) {
                    violations.add("[contract] call(" + request + ") threw " + e);
                    return;
                }
                if (future == null) {
                    violations.add("[contract] call(" + request + ") returned null");
                    return;
                }
                callers.put(request.id(), future);
            }
            case Advance advance -> clock.advance(Duration.ofMillis(advance.ms()));
            case Cancel cancel -> {
                CompletableFuture<Res> future = callers.get(cancel.id());
                if (future != null && future.cancel(false)) {
                    cancelledByCaller.add(cancel.id());
                }
            }
            case Remove remove -> {
                if (discovery != null) {
                    discovery.remove(remove.endpoint());
                }
            }
            case Add add -> {
                if (discovery != null) {
                    if (add.broken()) {
                        brokenConnects.add(add.endpoint());
                    }
                    try {
                        discovery.put(
                                add.endpoint(),
                                endpoints.get(add.endpoint()).spec.weight());
                    } catch (ConnectBug e) {
                        // The user's Error reaches whoever applied the change; the balancer must survive it.
                    }
                    brokenConnects.remove(add.endpoint());
                }
            }
        }
    }

    // ---- settling and checking ---------------------------------------------------------------

    private void settle() {
        heal();
        if (!scenario.layers().isEmpty() && scenario.layers().get(0) instanceof Scenario.Timeout timeout) {
            clock.advance(Duration.ofMillis(timeout.ms()));
            for (Map.Entry<Integer, CompletableFuture<Res>> caller : callers.entrySet()) {
                if (!caller.getValue().isDone()) {
                    violations.add("[liveness] " + requests.get(caller.getKey()) + " still pending after the outermost "
                            + scenario.layers().get(0) + " passed");
                }
            }
        }
        for (int round = 0; round < SETTLE_ROUNDS; round++) {
            releaseHangs();
            clock.advance(SETTLE_STEP);
            releaseHangs();
            if (callers.values().stream().allMatch(CompletableFuture::isDone) && openEndpointCalls() == 0) {
                break;
            }
        }
        // Once more, so breakers and ejections that saw the last failures come back.
        clock.advance(SETTLE_STEP);
    }

    /**
     * Brings every endpoint back into discovery: with no endpoint, a buffer or a reconnect above a
     * balancer may rightly wait for ever, which is not what the liveness check is about.
     */
    private void heal() {
        if (discovery == null) {
            return;
        }
        brokenConnects.clear();
        for (Scripted endpoint : endpoints) {
            discovery.put(endpoint.spec.index(), endpoint.spec.weight());
        }
    }

    private void releaseHangs() {
        for (Scripted endpoint : endpoints) {
            endpoint.releaseHangs();
        }
    }

    private int openEndpointCalls() {
        int open = 0;
        for (Scripted endpoint : endpoints) {
            open += endpoint.open.size();
        }
        return open;
    }

    private void check() {
        for (Map.Entry<Integer, CompletableFuture<Res>> caller : callers.entrySet()) {
            if (!caller.getValue().isDone()) {
                violations.add("[liveness] " + requests.get(caller.getKey()) + " never completed");
            }
        }
        for (Map.Entry<Integer, Integer> entry : reached.entrySet()) {
            Req request = requests.get(entry.getKey());
            if (request != null && !request.idempotent() && entry.getValue() > 1) {
                violations.add("[at-most-once] " + request + " is not idempotent but reached endpoints "
                        + entry.getValue() + " times");
            }
        }
        for (Permits p : permits) {
            if (p.available() != p.max() || p.queued() != 0) {
                violations.add("[resources] a concurrency limit did not return to zero: " + p);
            }
        }
        for (RateLimiter limiter : limiters) {
            if (limiter.queued() != 0) {
                violations.add("[resources] a rate limit still has callers queued: " + limiter);
            }
        }
        for (dev.belfry.buffer.Buffer<Req, Res> buffer : buffers) {
            if (buffer.queued() != 0) {
                violations.add("[resources] a buffer still holds requests: " + buffer);
            }
        }
        if (balancer != null) {
            for (EndpointStats stats : balancer.endpoints()) {
                if (stats.inflight() != 0) {
                    violations.add("[resources] balancer endpoint e" + stats.key() + " still counts " + stats.inflight()
                            + " in flight");
                }
            }
        }
        if (openEndpointCalls() != 0) {
            violations.add("[resources] " + openEndpointCalls() + " endpoint call(s) neither answered nor cancelled");
        }
        for (Map.Entry<CircuitBreaker<Req, Res>, Service<Req, Res>> entry : breakers.entrySet()) {
            CircuitBreaker<Req, Res> breaker = entry.getKey();
            if (breaker.readiness() == Readiness.BUSY && entry.getValue().readiness() == Readiness.READY) {
                violations.add("[resources] a circuit breaker is busy on its own (" + breaker.state()
                        + ") with nothing in flight, past its open interval");
            }
        }
        // Res keeps Object's identity equality: a set of the very responses callers received.
        Set<Res> delivered = new HashSet<>();
        for (CompletableFuture<Res> future : callers.values()) {
            if (future.isDone() && !future.isCompletedExceptionally()) {
                Res response = future.getNow(null);
                if (response != null) {
                    delivered.add(response);
                }
            }
        }
        for (Res response : responses) {
            boolean received = delivered.contains(response);
            if (!received && response.closes.get() == 0) {
                violations.add("[responses] " + response + " reached no caller and was never closed");
            } else if (received && response.closes.get() != 0 && !coalescing) {
                violations.add("[responses] " + response + " was closed although a caller received it");
            }
        }
    }

    private void checkClosed() {
        if (clock.pendingTasks() != 0) {
            try {
                clock.verify();
            } catch (AssertionError e) {
                violations.add("[close] after close(): " + e.getMessage());
            }
        }
        for (Link link : links) {
            if (!link.closed) {
                violations.add("[close] " + link + " was not closed by close()");
            }
        }
    }

    private Res respond(Req request, int endpoint) {
        Res response = new Res(request, endpoint, responses.size());
        responses.add(response);
        return response;
    }

    // ---- the scripted endpoints --------------------------------------------------------------

    /** A failure after the request was received: it may have been processed. */
    static final class EndpointFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Req request;

        EndpointFailure(Req request, int endpoint) {
            super("e" + endpoint + " failed " + request, null, false, false);
            this.request = request;
        }
    }

    /** A refusal before sending: the request was certainly not processed. */
    static final class Unsent extends UnprocessedException {
        private static final long serialVersionUID = 1L;

        Unsent(Req request, int endpoint) {
            super("e" + endpoint + " refused " + request + " before sending it");
        }
    }

    /** A bug in a user's connect function that throws an Error. */
    static final class ConnectBug extends Error {
        private static final long serialVersionUID = 1L;

        ConnectBug(String message) {
            super(message);
        }
    }

    /** One endpoint: each call that reaches it takes the next outcome of its cycle. */
    private final class Scripted {
        final EndpointSpec spec;
        /** Calls not yet answered: delayed ones and hung ones. */
        final List<OpenCall> open = new ArrayList<>();

        private int arrivals;
        private int checks;

        Scripted(EndpointSpec spec) {
            this.spec = spec;
        }

        CompletableFuture<Res> serve(Req request) {
            Outcome outcome = spec.outcomes().get(arrivals++ % spec.outcomes().size());
            if (outcome.kind() == Kind.UNSENT) {
                return CompletableFuture.failedFuture(new Unsent(request, spec.index()));
            }
            reached.merge(request.id(), 1, Integer::sum);
            if (outcome.kind() != Kind.HANG && outcome.delayMs() == 0) {
                return outcome.kind() == Kind.ANSWER
                        ? CompletableFuture.completedFuture(respond(request, spec.index()))
                        : CompletableFuture.failedFuture(new EndpointFailure(request, spec.index()));
            }
            OpenCall call = new OpenCall(request, outcome.kind() == Kind.HANG);
            open.add(call);
            CompletableFuture<Res> future = call.future;
            if (call.hung) {
                future.whenComplete((response, failure) -> open.removeIf(c -> c == call));
                return future;
            }
            var timer = clock.schedule(Duration.ofMillis(outcome.delayMs()), () -> {
                if (outcome.kind() == Kind.ANSWER) {
                    Res response = respond(request, spec.index());
                    if (!future.complete(response)) {
                        response.close(); // never handed out
                    }
                } else {
                    future.completeExceptionally(new EndpointFailure(request, spec.index()));
                }
            });
            future.whenComplete((response, failure) -> {
                open.removeIf(c -> c == call);
                if (future.isCancelled()) {
                    timer.cancel();
                }
            });
            return future;
        }

        void releaseHangs() {
            for (OpenCall call : new ArrayList<>(open)) {
                if (call.hung) {
                    Res response = respond(call.request, spec.index());
                    if (!call.future.complete(response)) {
                        response.close();
                    }
                }
            }
        }

        HealthCheck check(List<String> cycle) {
            return () -> {
                String next = cycle.get(checks++ % cycle.size());
                return switch (next) {
                    case "pass" -> CompletableFuture.completedFuture(null);
                    case "fail" ->
                        CompletableFuture.failedFuture(new IllegalStateException("e" + spec.index() + " unhealthy"));
                    default -> new CompletableFuture<Void>(); // hangs; the monitor's timeout cancels it
                };
            };
        }
    }

    /** A call an endpoint has not answered yet. */
    private static final class OpenCall {
        final Req request;
        final boolean hung;
        final CompletableFuture<Res> future = new CompletableFuture<>();

        OpenCall(Req request, boolean hung) {
            this.request = request;
            this.hung = hung;
        }
    }

    /** One connection to a scripted endpoint, with its own closed state; may drop after some calls. */
    private static final class Link implements Service<Req, Res> {
        private final Scripted endpoint;
        private final int dropAfterCalls;
        private final int number;
        private int calls;
        boolean closed;

        Link(Scripted endpoint, int dropAfterCalls, int number) {
            this.endpoint = endpoint;
            this.dropAfterCalls = dropAfterCalls;
            this.number = number;
        }

        private boolean dropped() {
            return dropAfterCalls > 0 && calls >= dropAfterCalls;
        }

        @Override
        public CompletableFuture<Res> call(Req request) {
            if (closed || dropped()) {
                return CompletableFuture.failedFuture(new ServiceClosedException(this + " is closed"));
            }
            calls++;
            return endpoint.serve(request);
        }

        @Override
        public Readiness readiness() {
            return closed || dropped() ? Readiness.CLOSED : Readiness.READY;
        }

        @Override
        public CompletionStage<Void> whenReady() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public String toString() {
            return "connection #" + number + " to e" + endpoint.spec.index();
        }
    }
}
