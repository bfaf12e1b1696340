package dev.belfry.grpc.server;

import dev.belfry.Checks;
import dev.belfry.limit.Permits;
import dev.belfry.limit.RateLimiter;
import dev.belfry.time.Clock;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * A {@link ServerInterceptor} that applies Belfry's limits to a grpc-java server: a concurrency
 * limit that sheds load, a rate limit, and the call's deadline.
 *
 * <pre>{@code
 * ServerLimits limits = ServerLimits.builder()
 *         .concurrencyLimit(256)                        // the 257th call at once: RESOURCE_EXHAUSTED
 *         .rateLimit(1000, Duration.ofSeconds(1))       // beyond 1000 calls a second: RESOURCE_EXHAUSTED
 *         .build();
 * Server server = NettyServerBuilder.forPort(8443)
 *         .addService(ServerInterceptors.intercept(users, limits))
 *         .build().start();
 * }</pre>
 *
 * <p>Checks, in order, before the handler sees the call: a call whose deadline has already passed
 * is closed {@code DEADLINE_EXCEEDED} (nobody waits for its answer); a call beyond the rate is
 * closed {@code RESOURCE_EXHAUSTED}; a call that finds every concurrency permit taken is closed
 * {@code RESOURCE_EXHAUSTED} at once (shed, never queued: the client's channel retries elsewhere or
 * backs off). A call that passes holds one permit ({@link Permits}, shareable between services)
 * until it closes, is cancelled, or its deadline passes (grpc-java cancels a call at its deadline,
 * so the deadline bounds how long a slow handler keeps a permit). A call shed by the concurrency
 * limit gives its rate token back.
 *
 * <p>The descriptions name the limit ({@code "concurrency limit of 256 reached"}), so a client
 * sees which one it hit. Thread-safe; one instance may intercept many services, sharing its limits.
 */
public final class ServerLimits implements ServerInterceptor {
    private final @Nullable Permits permits;
    private final @Nullable RateLimiter rate;
    private final String rateText;

    private ServerLimits(Builder builder) {
        this.permits = builder.permits;
        this.rate = builder.rate;
        this.rateText = builder.rateText;
    }

    /** A builder; with no limit set the interceptor only honours deadlines. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
            ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        Deadline deadline = Context.current().getDeadline();
        if (deadline != null && deadline.isExpired()) {
            return reject(
                    call, Status.DEADLINE_EXCEEDED.withDescription("the deadline passed before the call was handled"));
        }
        if (rate != null && !rate.tryAcquire()) {
            return reject(call, Status.RESOURCE_EXHAUSTED.withDescription("rate limit of " + rateText + " exceeded"));
        }
        Permits held = permits;
        if (held == null) {
            return next.startCall(call, headers);
        }
        if (!held.tryAcquire()) {
            if (rate != null) {
                rate.refund();
            }
            return reject(
                    call, Status.RESOURCE_EXHAUSTED.withDescription("concurrency limit of " + held.max() + " reached"));
        }
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                held.release();
            }
        };
        ServerCall<ReqT, RespT> releasing = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                release.run();
                super.close(status, trailers);
            }
        };
        ServerCall.Listener<ReqT> listener;
        try {
            listener = next.startCall(releasing, headers);
        } catch (RuntimeException | Error e) {
            release.run();
            throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onCancel() {
                // Cancelled by the client, a broken connection, or the deadline.
                release.run();
                super.onCancel();
            }

            @Override
            public void onComplete() {
                release.run();
                super.onComplete();
            }
        };
    }

    private static <ReqT, RespT> ServerCall.Listener<ReqT> reject(ServerCall<ReqT, RespT> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {};
    }

    @Override
    public String toString() {
        return "ServerLimits[" + (permits == null ? "" : "concurrency " + permits.max())
                + (rate == null ? "" : (permits == null ? "" : ", ") + "rate " + rateText) + "]";
    }

    /** Settings of a {@link ServerLimits}; each may be set once. */
    public static final class Builder {
        private final Set<String> set = new HashSet<>();
        private @Nullable Permits permits;
        private @Nullable RateLimiter rate;
        private String rateText = "";
        private @Nullable Long rateRequests;
        private @Nullable Duration ratePer;
        private Clock clock = Clock.system();

        private Builder() {}

        private void once(String setting) {
            if (!set.add(setting)) {
                throw new IllegalStateException(setting + " was already set");
            }
        }

        /** At most {@code max} calls at once; the others are shed with {@code RESOURCE_EXHAUSTED}. */
        public Builder concurrencyLimit(int max) {
            once("concurrency limit");
            this.permits = Permits.of(Checks.positive(max, "max"), 0);
            return this;
        }

        /** Shares {@code permits} (of other interceptors or layers) as the concurrency limit. */
        public Builder concurrencyLimit(Permits permits) {
            once("concurrency limit");
            this.permits = Checks.notNull(permits, "permits");
            return this;
        }

        /** At most {@code requests} calls per {@code per} (bursts up to {@code requests}); the rest are shed. */
        public Builder rateLimit(long requests, Duration per) {
            once("rate limit");
            this.rateRequests = Checks.positive(requests, "requests");
            this.ratePer = Checks.positive(per, "per");
            return this;
        }

        /** The clock of the rate limit (the system clock). */
        public Builder clock(Clock clock) {
            once("clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /** The interceptor. */
        public ServerLimits build() {
            if (rateRequests != null && ratePer != null) {
                rate = RateLimiter.of(rateRequests, ratePer, clock);
                rateText =
                        rateRequests + " per " + ratePer.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
            }
            return new ServerLimits(this);
        }
    }
}
