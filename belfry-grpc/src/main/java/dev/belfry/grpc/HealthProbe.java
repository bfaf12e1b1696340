package dev.belfry.grpc;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The {@code grpc.health.v1.Health} checking of one member: a {@code Watch} stream where the server
 * supports it, {@code Check} calls where it answers {@code UNIMPLEMENTED} to {@code Watch}.
 *
 * <p>Each {@link #probe} answers the pool's periodic question. Under {@code Watch} it answers from
 * the last status the server pushed (starting the stream if it is not running, and waiting for its
 * first answer); between probes, a push of anything but {@code SERVING} calls {@code onChange} at
 * once, so the member stops taking calls without waiting for the next probe. Thread-safe.
 */
final class HealthProbe {
    private final ManagedChannel channel;
    private final String service;
    private final Duration timeout;
    private final Runnable onChange;
    private final Object lock = new Object();

    // Guarded by lock.
    private boolean checkOnly;
    private @Nullable ClientCall<HealthCheckRequest, HealthCheckResponse> watch;
    private @Nullable ServingStatus watched;
    private @Nullable CompletableFuture<Void> firstAnswer;
    private boolean stopped;

    HealthProbe(ManagedChannel channel, String service, Duration timeout, Runnable onChange) {
        this.channel = channel;
        this.service = service;
        this.timeout = timeout;
        this.onChange = onChange;
    }

    /** Whether the last status the server pushed on {@code Watch} said the service is not serving. */
    boolean pushedNotServing() {
        synchronized (lock) {
            return watched != null && watched != ServingStatus.SERVING;
        }
    }

    /** One probe: completes normally if the service is serving, exceptionally with the reason if not. */
    CompletableFuture<Void> probe() {
        ServingStatus known;
        CompletableFuture<Void> pending;
        synchronized (lock) {
            if (stopped) {
                return CompletableFuture.failedFuture(new IllegalStateException("member closed"));
            }
            if (checkOnly) {
                pending = null;
                known = null;
            } else {
                if (watch == null) {
                    startWatch();
                }
                known = watched;
                if (known == null) {
                    if (firstAnswer == null) {
                        firstAnswer = new CompletableFuture<>();
                    }
                    pending = firstAnswer;
                } else {
                    pending = null;
                }
            }
        }
        if (known != null) {
            return verdict(known);
        }
        if (pending != null) {
            // A copy: the pool cancels what it times out, and the first answer is shared.
            return pending.copy();
        }
        return check();
    }

    /** Stops watching. */
    void stop() {
        ClientCall<HealthCheckRequest, HealthCheckResponse> running;
        synchronized (lock) {
            stopped = true;
            running = watch;
            watch = null;
        }
        if (running != null) {
            running.cancel("member closed", null);
        }
    }

    // Called with the lock held.
    private void startWatch() {
        ClientCall<HealthCheckRequest, HealthCheckResponse> call =
                channel.newCall(HealthGrpc.getWatchMethod(), CallOptions.DEFAULT);
        watch = call;
        watched = null;
        call.start(new WatchListener(call), new Metadata());
        call.sendMessage(HealthCheckRequest.newBuilder().setService(service).build());
        call.halfClose();
        call.request(Integer.MAX_VALUE);
    }

    // Identity on purpose: a listener acts only while its call is the current Watch.
    @SuppressWarnings("ReferenceEquality")
    private final class WatchListener extends ClientCall.Listener<HealthCheckResponse> {
        private final ClientCall<HealthCheckRequest, HealthCheckResponse> call;

        WatchListener(ClientCall<HealthCheckRequest, HealthCheckResponse> call) {
            this.call = call;
        }

        @Override
        public void onMessage(HealthCheckResponse message) {
            CompletableFuture<Void> waiting;
            boolean changed;
            synchronized (lock) {
                if (watch != call) {
                    return;
                }
                changed = watched != message.getStatus();
                watched = message.getStatus();
                waiting = firstAnswer;
                firstAnswer = null;
            }
            if (waiting != null) {
                complete(waiting, verdict(message.getStatus()));
            }
            if (changed) {
                onChange.run();
            }
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            CompletableFuture<Void> waiting;
            boolean fallBack;
            synchronized (lock) {
                if (watch != call) {
                    return;
                }
                watch = null;
                watched = null;
                waiting = firstAnswer;
                firstAnswer = null;
                fallBack = status.getCode() == Status.Code.UNIMPLEMENTED;
                if (fallBack) {
                    checkOnly = true;
                }
            }
            onChange.run();
            if (waiting == null) {
                return;
            }
            if (fallBack) {
                complete(waiting, check());
            } else {
                waiting.completeExceptionally(new HealthCheckException("Watch ended: " + describe(status)));
            }
        }
    }

    private CompletableFuture<Void> check() {
        ClientCall<HealthCheckRequest, HealthCheckResponse> call = channel.newCall(
                HealthGrpc.getCheckMethod(),
                CallOptions.DEFAULT.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS));
        CompletableFuture<Void> result = new CompletableFuture<>();
        call.start(
                new ClientCall.Listener<>() {
                    private @Nullable ServingStatus answer;

                    @Override
                    public void onMessage(HealthCheckResponse message) {
                        answer = message.getStatus();
                    }

                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        ServingStatus got = answer;
                        if (!status.isOk()) {
                            String hint = status.getCode() == Status.Code.UNIMPLEMENTED
                                    ? " (the server has no grpc.health.v1.Health service; turn health checking"
                                            + " off with healthChecking(false) if that is expected)"
                                    : "";
                            result.completeExceptionally(
                                    new HealthCheckException("Check failed: " + describe(status) + hint));
                        } else if (got == null) {
                            result.completeExceptionally(new HealthCheckException("Check answered nothing"));
                        } else {
                            complete(result, verdict(got));
                        }
                    }
                },
                new Metadata());
        call.sendMessage(HealthCheckRequest.newBuilder().setService(service).build());
        call.halfClose();
        call.request(2);
        result.whenComplete((ok, failure) -> {
            if (result.isCancelled()) {
                call.cancel("health check abandoned", null);
            }
        });
        return result;
    }

    private CompletableFuture<Void> verdict(ServingStatus status) {
        if (status == ServingStatus.SERVING) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.failedFuture(new HealthCheckException(
                (service.isEmpty() ? "the server" : "service '" + service + "'") + " is " + status));
    }

    private static void complete(CompletableFuture<Void> target, CompletableFuture<Void> from) {
        from.whenComplete((ok, failure) -> {
            if (failure != null) {
                target.completeExceptionally(failure);
            } else {
                target.complete(null);
            }
        });
    }

    static String describe(Status status) {
        String description = status.getDescription();
        Throwable cause = status.getCause();
        StringBuilder text = new StringBuilder(status.getCode().name());
        if (description != null) {
            text.append(": ").append(description);
        }
        if (cause != null && cause.getMessage() != null) {
            text.append(" (").append(cause.getMessage()).append(')');
        }
        return text.toString();
    }

    /** A failed health probe: the server answered something other than SERVING, or did not answer. */
    static final class HealthCheckException extends Exception {
        private static final long serialVersionUID = 1L;

        HealthCheckException(String message) {
            super(message, null, false, false);
        }
    }
}
