package dev.belfry.grpc;

import dev.belfry.hedge.LatencyHistogram;
import dev.belfry.time.Clock;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * An idempotent unary call on a {@link WarmGrpcChannel} with hedging on: a {@link WarmCall} on one
 * member and, if it has not answered once the method's recent latency percentile has passed, a
 * backup {@link WarmCall} on another member. The first to answer wins and the other is cancelled.
 *
 * <p>The backup is sent only when the first call was admitted on a member (a call still waiting
 * for a member is not slow on a server), the request is complete (half-closed), nothing has reached
 * the caller, and the channel's retry budget has a token. A failure wins only when no other call is
 * left that could still succeed. Each call retries on its own as a {@link WarmCall} does.
 *
 * <p>Latencies are learnt per method in a {@link LatencyHistogram}: the winning copy's round trip,
 * and a losing copy's time until it was cancelled (a lower bound: leaving losers out would keep only the fast
 * answers, and the threshold would drift down until every call is hedged). The loser's attempt
 * ends {@link dev.belfry.AbandonedException abandoned}, so the pool's Peak-EWMA keeps the slow
 * member's estimate at least that high instead of learning that it answers at the threshold.
 */
final class HedgedCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
    private final WarmGrpcChannel channel;
    private final MethodDescriptor<ReqT, RespT> method;
    private final CallOptions options;
    private final Context context;
    private final LatencyHistogram latencies;
    private final ClientMetrics.@Nullable MethodMetrics metrics;
    private final Object lock = new Object();

    // Guarded by lock.
    private final List<Consumer<ClientCall<ReqT, RespT>>> log = new ArrayList<>();
    private boolean replayable = true;
    private boolean halfClosed;
    private @Nullable Side primary;
    private @Nullable Side backup;
    private @Nullable Side winner;
    private boolean cancelled;
    private Clock.@Nullable Scheduled timer;

    // Set by start.
    private @Nullable Listener<RespT> caller;
    private Metadata headers = new Metadata();
    private long startedAt;

    HedgedCall(
            WarmGrpcChannel channel,
            MethodDescriptor<ReqT, RespT> method,
            CallOptions options,
            LatencyHistogram latencies,
            ClientMetrics.@Nullable MethodMetrics metrics) {
        this.channel = channel;
        this.method = method;
        this.options = options;
        this.context = Context.current();
        this.latencies = latencies;
        this.metrics = metrics;
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
        if (caller != null) {
            throw new IllegalStateException("the call was already started");
        }
        this.caller = listener;
        Metadata copy = new Metadata();
        copy.merge(headers);
        this.headers = copy;
        Clock clock = channel.clock();
        this.startedAt = clock.nanoTime();
        if (metrics != null) {
            metrics.started();
        }
        Side first = new Side(Set.of());
        synchronized (lock) {
            primary = first;
        }
        first.call.start(first, headers);
        OptionalLong threshold = latencies.percentile(channel.hedgePercentile(), channel.hedgeMinSamples(), startedAt);
        if (threshold.isPresent()) {
            Duration delay = Duration.ofNanos(Math.max(1, threshold.getAsLong()));
            synchronized (lock) {
                if (winner == null && !cancelled) {
                    // Under the lock: the task takes it, so it cannot run before `timer` is set.
                    timer = clock.schedule(delay, this::sendBackup);
                }
            }
        }
    }

    private void sendBackup() {
        Side second;
        List<Consumer<ClientCall<ReqT, RespT>>> replay;
        synchronized (lock) {
            timer = null;
            Side first = primary;
            Object busy = first == null ? null : first.call.member();
            if (winner != null || cancelled || !halfClosed || !replayable || busy == null) {
                return;
            }
            if (!channel.budget().tryWithdraw()) {
                return;
            }
            second = new Side(Set.of(busy));
            backup = second;
            replay = List.copyOf(log);
            // Queued in the new call before anything the caller does next reaches it.
            for (Consumer<ClientCall<ReqT, RespT>> op : replay) {
                op.accept(second.call);
            }
        }
        if (metrics != null) {
            metrics.hedged();
        }
        second.call.start(second, headers);
    }

    private void record(Consumer<ClientCall<ReqT, RespT>> op) {
        List<Side> targets = new ArrayList<>(2);
        synchronized (lock) {
            if (replayable) {
                if (log.size() >= WarmCall.MAX_REPLAY) {
                    replayable = false;
                    log.clear();
                } else {
                    log.add(op);
                }
            }
            if (winner != null) {
                targets.add(winner);
            } else {
                addIfPresent(targets, primary);
                addIfPresent(targets, backup);
            }
        }
        for (Side side : targets) {
            op.accept(side.call);
        }
    }

    private static <T> void addIfPresent(List<T> list, @Nullable T value) {
        if (value != null) {
            list.add(value);
        }
    }

    /**
     * Makes {@code side} the winner if none is yet; returns whether it is the winner. The loser (if
     * any) is cancelled and the backup timer stopped.
     */
    private boolean decide(Side side) {
        Side loser;
        Clock.Scheduled pending;
        synchronized (lock) {
            if (winner != null) {
                return winner == side;
            }
            winner = side;
            loser = side == primary ? backup : primary;
            pending = timer;
            timer = null;
        }
        if (pending != null) {
            pending.cancel();
        }
        if (loser != null && !loser.closed) {
            loser.cancelledAt = channel.clock().nanoTime();
            loser.call.abandon("another member answered first (hedged call)");
        }
        return true;
    }

    @Override
    public void request(int numMessages) {
        record(call -> call.request(numMessages));
    }

    @Override
    public void sendMessage(ReqT message) {
        record(call -> call.sendMessage(message));
    }

    @Override
    public void halfClose() {
        synchronized (lock) {
            halfClosed = true;
        }
        record(ClientCall::halfClose);
    }

    @Override
    public void setMessageCompression(boolean enabled) {
        record(call -> call.setMessageCompression(enabled));
    }

    @Override
    public void cancel(@Nullable String message, @Nullable Throwable cause) {
        List<Side> targets = new ArrayList<>(2);
        Clock.Scheduled pending;
        synchronized (lock) {
            cancelled = true;
            pending = timer;
            timer = null;
            addIfPresent(targets, primary);
            addIfPresent(targets, backup);
        }
        if (pending != null) {
            pending.cancel();
        }
        for (Side side : targets) {
            side.call.cancel(message, cause);
        }
    }

    @Override
    public boolean isReady() {
        Side side;
        synchronized (lock) {
            side = winner != null ? winner : primary;
        }
        return side != null && side.call.isReady();
    }

    @Override
    public Attributes getAttributes() {
        Side side;
        synchronized (lock) {
            side = winner != null ? winner : primary;
        }
        return side == null ? Attributes.EMPTY : side.call.getAttributes();
    }

    @Override
    public String toString() {
        return "HedgedCall[" + method.getFullMethodName() + " on " + channel.name() + "]";
    }

    private Listener<RespT> caller() {
        Listener<RespT> listener = caller;
        if (listener == null) {
            throw new IllegalStateException("a call's event before start");
        }
        return listener;
    }

    /** One of the (at most two) calls, and the listener that passes its events on if it wins. */
    private final class Side extends Listener<RespT> {
        final WarmCall<ReqT, RespT> call;
        final long sentAt;
        volatile boolean closed; // written under lock
        volatile long cancelledAt;

        Side(Set<Object> avoid) {
            this.call = new WarmCall<>(channel, method, options, context, null, avoid);
            this.sentAt = channel.clock().nanoTime();
        }

        @Override
        public void onHeaders(Metadata responseHeaders) {
            if (decide(this)) {
                caller().onHeaders(responseHeaders);
            }
        }

        @Override
        public void onMessage(RespT message) {
            if (decide(this)) {
                caller().onMessage(message);
            }
        }

        @Override
        public void onReady() {
            boolean mine;
            synchronized (lock) {
                mine = winner != null ? winner == this : primary == this;
            }
            if (mine) {
                caller().onReady();
            }
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            long now = channel.clock().nanoTime();
            boolean wins;
            synchronized (lock) {
                closed = true;
                if (winner == null) {
                    Side other = this == primary ? backup : primary;
                    // A failure waits while the other call may still succeed.
                    wins = status.isOk() || other == null || other.closed;
                } else {
                    wins = winner == this;
                }
            }
            if (!wins) {
                if (cancelledAt != 0) {
                    // A loser: it took at least this long.
                    latencies.record(cancelledAt - sentAt, now);
                }
                return;
            }
            if (!decide(this)) {
                return; // the other call closed too, and won
            }
            if (status.isOk()) {
                // This copy's own round trip: a backup that won took its own time, not the wait
                // before it was sent, which would push the threshold up every time hedging works.
                latencies.record(now - sentAt, now);
            }
            if (metrics != null) {
                metrics.handled(status.getCode(), now - startedAt);
            }
            caller().onClose(status, trailers);
        }
    }
}
