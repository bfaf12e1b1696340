package dev.belfry.grpc;

import dev.belfry.Futures;
import dev.belfry.ServiceClosedException;
import dev.belfry.balance.Routed;
import dev.belfry.channel.NoMemberReadyException;
import dev.belfry.time.Clock;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * One call on a {@link WarmGrpcChannel}: admitted by the pool on one member, started there as a
 * grpc-java call, and, if that attempt certainly never reached a server, retried on another member.
 *
 * <p>Until a member takes the call, what the caller does ({@code request}, {@code sendMessage},
 * {@code halfClose}, compression) is queued and then replayed on the member's call in order. The
 * same log is kept (up to {@value #MAX_REPLAY} operations, and only until a response header or
 * message reaches the caller) so that a retry can replay it on another member.
 *
 * <p>A retry happens when the attempt closed {@code UNAVAILABLE} and its last stream never sent its
 * headers (it never reached a server, whatever the method), or when the method is idempotent
 * (marked so in its descriptor or with {@link WarmGrpcChannel#IDEMPOTENT}), no server answered
 * anything and the attempt closed {@code UNAVAILABLE} or was reset by the server ({@code
 * CANCELLED} that the caller did not ask for); never after the caller has seen a header or a message, never once cancelled, at most
 * {@code maxRetries} times and only while the channel's retry budget allows. Other outcomes reach
 * the caller unchanged.
 *
 * <p>The caller's {@link Context} is captured when the call is made: the member's call is created
 * and started in it (so its deadline and cancellation propagate), and while the call waits for a
 * member, the deadline (the earlier of the call's and the context's) and the context's
 * cancellation end the wait.
 */
final class WarmCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
    static final int MAX_REPLAY = 64;

    private final WarmGrpcChannel channel;
    private final MethodDescriptor<ReqT, RespT> method;
    private final CallOptions options;
    private final Context context;
    private final ClientMetrics.@Nullable MethodMetrics metrics;
    private final Object lock = new Object();
    private final AtomicBoolean closedToCaller = new AtomicBoolean();
    private final Context.CancellationListener contextCancelled =
            context -> cancelWith(Contexts.statusFromCancelled(context));

    // Guarded by lock.
    private List<Consumer<ClientCall<ReqT, RespT>>> log = new ArrayList<>();
    private boolean replayable = true;
    private List<Consumer<ClientCall<ReqT, RespT>>> pending = new ArrayList<>();
    private @Nullable ClientCall<ReqT, RespT> real;
    private boolean passThrough;
    private @Nullable Status cancelled;
    private @Nullable CompletableFuture<?> admission;
    private Clock.@Nullable Scheduled deadlineTimer;
    private Set<Object> tried = Set.of();
    private int retries;

    // Set by start, before any attempt exists.
    private @Nullable Listener<RespT> caller;
    private Metadata headers = new Metadata();
    private long startedAt;

    // Set when a response header or message reached the caller: no retry after that.
    private volatile boolean committed;
    private volatile @Nullable Attempt<ReqT, RespT> current;

    // Set when a hedge abandons this call: its attempt then tells the pool it ran at least so long.
    private volatile boolean abandoned;

    // Set once a member admitted the current attempt (the key the pool knows it by).
    private volatile @Nullable Object admittedOn;

    WarmCall(WarmGrpcChannel channel, MethodDescriptor<ReqT, RespT> method, CallOptions options) {
        this(
                channel,
                method,
                options,
                Context.current(),
                channel.metrics() == null ? null : channel.metrics().method(method, channel.name()),
                Set.of());
    }

    /**
     * A call made in {@code context}, counted in {@code metrics} if not null (a {@link HedgedCall}
     * counts its two calls as one), whose first attempt avoids the members in {@code avoid}.
     */
    WarmCall(
            WarmGrpcChannel channel,
            MethodDescriptor<ReqT, RespT> method,
            CallOptions options,
            Context context,
            ClientMetrics.@Nullable MethodMetrics metrics,
            Set<Object> avoid) {
        this.channel = channel;
        this.method = method;
        this.options = options;
        this.context = context;
        this.metrics = metrics;
        this.tried = avoid;
    }

    /**
     * Cancels this call because another copy of it answered first: as {@link #cancel}, and its
     * attempt ends {@link dev.belfry.AbandonedException abandoned} for the pool's load measure.
     */
    void abandon(String why) {
        abandoned = true;
        cancel(why, null);
    }

    /** Whether {@link #abandon} was called. */
    boolean abandoned() {
        return abandoned;
    }

    /** The member the current attempt was admitted on, or null while none has taken it. */
    @Nullable
    Object member() {
        return admittedOn;
    }

    MethodDescriptor<ReqT, RespT> method() {
        return method;
    }

    CallOptions options() {
        return options;
    }

    <T> T inContext(Supplier<T> action) {
        Context previous = context.attach();
        try {
            return action.get();
        } finally {
            context.detach(previous);
        }
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
        this.startedAt = channel.clock().nanoTime();
        if (metrics != null) {
            metrics.started();
        }
        Status early;
        synchronized (lock) {
            early = cancelled;
        }
        if (early == null && context.isCancelled()) {
            early = Contexts.statusFromCancelled(context);
        }
        Deadline deadline = deadline();
        if (early == null && deadline != null && deadline.isExpired()) {
            early = Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded before the call started");
        }
        if (early != null) {
            closeLater(early, new Metadata());
            return;
        }
        channel.budget().deposit();
        context.addListener(contextCancelled, Runnable::run);
        Set<Object> avoid;
        synchronized (lock) {
            avoid = tried;
        }
        route(avoid);
    }

    private @Nullable Deadline deadline() {
        Deadline ofCall = options.getDeadline();
        Deadline ofContext = context.getDeadline();
        if (ofCall == null) {
            return ofContext;
        }
        return ofContext == null ? ofCall : ofCall.minimum(ofContext);
    }

    private void route(Set<Object> avoid) {
        Attempt<ReqT, RespT> attempt = new Attempt<>(this);
        CompletableFuture<Routed<Status>> admitted = channel.pool().route(attempt, avoid);
        synchronized (lock) {
            admission = admitted;
        }
        if (!admitted.isDone()) {
            armDeadline(admitted);
        }
        admitted.whenComplete((routed, failure) -> {
            disarmDeadline();
            if (failure != null) {
                notAdmitted(Futures.unwrap(failure));
            } else {
                admittedOn = routed.endpoint();
                routed.response().whenComplete((ok, ignored) -> {
                    if (attempt.closedOnThisThread()) {
                        ended(routed.endpoint(), attempt);
                    } else {
                        // The attempt closed before this callback was registered, so it runs here,
                        // on whatever thread admitted the call (a pool thread): the caller's
                        // listener must not be called on it. A blocking stub's caller, parked until
                        // its executor is handed a task, would never see a close made here.
                        callerExecutor().execute(() -> ended(routed.endpoint(), attempt));
                    }
                });
            }
        });
    }

    private void armDeadline(CompletableFuture<?> admitted) {
        Deadline deadline = deadline();
        if (deadline == null) {
            return;
        }
        long waitFrom = channel.clock().nanoTime();
        Clock.Scheduled timer = channel.clock()
                .schedule(Duration.ofNanos(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS))), () -> {
                    if (admitted.cancel(false)) {
                        long waited = channel.clock().nanoTime() - waitFrom;
                        closeLater(
                                Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded after "
                                        + TimeUnit.NANOSECONDS.toMillis(waited)
                                        + " ms waiting for a ready member of channel '"
                                        + channel.name() + "'"),
                                new Metadata());
                    }
                });
        synchronized (lock) {
            deadlineTimer = timer;
        }
    }

    private void disarmDeadline() {
        Clock.Scheduled timer;
        synchronized (lock) {
            timer = deadlineTimer;
            deadlineTimer = null;
        }
        if (timer != null) {
            timer.cancel();
        }
    }

    private void notAdmitted(Throwable failure) {
        if (failure instanceof CancellationException) {
            // Withdrawn by a cancel or a deadline, which closed the call already.
            return;
        }
        Status status;
        if (failure instanceof NoMemberReadyException) {
            status = Status.UNAVAILABLE.withDescription(failure.getMessage()).withCause(failure);
        } else if (failure instanceof ServiceClosedException) {
            status = Status.UNAVAILABLE
                    .withDescription("channel '" + channel.name() + "' is closed")
                    .withCause(failure);
        } else {
            status = Status.INTERNAL
                    .withDescription("the channel failed the call")
                    .withCause(failure);
        }
        closeLater(status, new Metadata());
    }

    /** A member took {@code attempt} and made {@code call} for it: start it and replay what is queued. */
    void attach(Attempt<ReqT, RespT> attempt, ClientCall<ReqT, RespT> call) {
        Status cancelledWith;
        synchronized (lock) {
            current = attempt;
            real = call;
            passThrough = false;
            cancelledWith = cancelled;
        }
        Metadata copy = new Metadata();
        copy.merge(headers);
        inContext(() -> {
            call.start(new AttemptListener(attempt), copy);
            return null;
        });
        drain(call);
        if (cancelledWith != null) {
            call.cancel(cancelledWith.getDescription(), cancelledWith.getCause());
        }
    }

    private void drain(ClientCall<ReqT, RespT> call) {
        while (true) {
            List<Consumer<ClientCall<ReqT, RespT>>> ops;
            synchronized (lock) {
                // Identity on purpose: a retry replaced the attempt's call.
                @SuppressWarnings("ReferenceEquality")
                boolean replaced = real != call;
                if (replaced) {
                    return;
                }
                if (pending.isEmpty()) {
                    passThrough = true;
                    return;
                }
                ops = pending;
                pending = new ArrayList<>();
            }
            // Outside the lock: the caller may queue more meanwhile, which the next turn runs.
            for (Consumer<ClientCall<ReqT, RespT>> op : ops) {
                op.accept(call);
            }
        }
    }

    private void record(Consumer<ClientCall<ReqT, RespT>> op) {
        ClientCall<ReqT, RespT> target;
        synchronized (lock) {
            if (replayable) {
                if (committed || log.size() >= MAX_REPLAY) {
                    replayable = false;
                    log = List.of();
                } else {
                    log.add(op);
                }
            }
            if (!passThrough) {
                pending.add(op);
                return;
            }
            target = real;
        }
        if (target != null) {
            op.accept(target);
        }
    }

    private void ended(Object member, Attempt<ReqT, RespT> attempt) {
        Status status = attempt.status();
        boolean retry;
        synchronized (lock) {
            retry = cancelled == null
                    && !committed
                    && replayable
                    && retries < channel.maxRetries()
                    && retryable(attempt, status);
        }
        if (retry && channel.budget().tryWithdraw()) {
            Set<Object> avoid;
            synchronized (lock) {
                retry = cancelled == null;
                retries++;
                Set<Object> next = new HashSet<>(tried);
                next.add(member);
                tried = Set.copyOf(next);
                avoid = tried;
                real = null;
                current = null;
                passThrough = false;
                pending = new ArrayList<>(log);
            }
            if (retry) {
                route(avoid);
                return;
            }
        }
        close(status, attempt.trailers());
    }

    private boolean retryable(Attempt<ReqT, RespT> attempt, Status status) {
        Status.Code code = status.getCode();
        if (code == Status.Code.UNAVAILABLE && attempt.neverSent()) {
            return true;
        }
        if (!WarmGrpcChannel.idempotent(method, options) || attempt.serverAnswered()) {
            return false;
        }
        // A lost connection, or a server that reset the stream (RST_STREAM CANCEL, as grpc-java's
        // shutdownNow does) without answering; a cancellation of ours is never retried.
        return code == Status.Code.UNAVAILABLE || (code == Status.Code.CANCELLED && !context.isCancelled());
    }

    private void closeLater(Status status, Metadata trailers) {
        callerExecutor().execute(() -> close(status, trailers));
    }

    /** Where the caller's listener may be called from outside a member's callbacks. */
    private Executor callerExecutor() {
        Executor executor = options.getExecutor();
        return executor != null ? executor : channel.callbackExecutor();
    }

    private void close(Status status, Metadata trailers) {
        if (!closedToCaller.compareAndSet(false, true)) {
            return;
        }
        context.removeListener(contextCancelled);
        disarmDeadline();
        if (metrics != null) {
            metrics.handled(status.getCode(), channel.clock().nanoTime() - startedAt);
        }
        Listener<RespT> listener = caller;
        if (listener != null) {
            listener.onClose(status, trailers);
        }
    }

    @Override
    public void request(int numMessages) {
        record(call -> call.request(numMessages));
    }

    @Override
    public void cancel(@Nullable String message, @Nullable Throwable cause) {
        Status status = Status.CANCELLED.withDescription(message == null ? "cancelled by the caller" : message);
        cancelWith(cause == null ? status : status.withCause(cause));
    }

    private void cancelWith(Status status) {
        ClientCall<ReqT, RespT> target;
        CompletableFuture<?> waiting;
        synchronized (lock) {
            if (cancelled != null) {
                return;
            }
            cancelled = status;
            target = real;
            waiting = admission;
        }
        if (target != null) {
            // Its close reaches the caller through the attempt (a cancelled call is never retried).
            target.cancel(status.getDescription(), status.getCause());
            return;
        }
        if (waiting != null) {
            waiting.cancel(false);
        }
        if (caller != null) {
            closeLater(status, new Metadata());
        }
    }

    @Override
    public void halfClose() {
        record(ClientCall::halfClose);
    }

    @Override
    public void sendMessage(ReqT message) {
        record(call -> call.sendMessage(message));
    }

    @Override
    public void setMessageCompression(boolean enabled) {
        record(call -> call.setMessageCompression(enabled));
    }

    @Override
    public boolean isReady() {
        ClientCall<ReqT, RespT> target;
        synchronized (lock) {
            target = passThrough ? real : null;
        }
        return target != null && target.isReady();
    }

    @Override
    public Attributes getAttributes() {
        ClientCall<ReqT, RespT> target;
        synchronized (lock) {
            target = real;
        }
        return target == null ? Attributes.EMPTY : target.getAttributes();
    }

    @Override
    public String toString() {
        return "WarmCall[" + method.getFullMethodName() + " on " + channel.name() + "]";
    }

    /** Passes one attempt's events to the caller; its close goes through {@link #ended}. */
    private final class AttemptListener extends Listener<RespT> {
        private final Attempt<ReqT, RespT> attempt;

        AttemptListener(Attempt<ReqT, RespT> attempt) {
            this.attempt = attempt;
        }

        @Override
        public void onHeaders(Metadata responseHeaders) {
            committed = true;
            listener().onHeaders(responseHeaders);
        }

        @Override
        public void onMessage(RespT message) {
            committed = true;
            listener().onMessage(message);
        }

        @Override
        public void onReady() {
            if (current == attempt) {
                listener().onReady();
            }
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            attempt.closed(status, trailers);
        }

        private Listener<RespT> listener() {
            Listener<RespT> listener = caller;
            if (listener == null) {
                throw new IllegalStateException("attempt before start");
            }
            return listener;
        }
    }
}
