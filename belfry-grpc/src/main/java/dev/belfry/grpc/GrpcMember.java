package dev.belfry.grpc;

import dev.belfry.Readiness;
import dev.belfry.channel.PoolMember;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * One member of a {@link WarmGrpcChannel}: one grpc-java {@link ManagedChannel} to one address,
 * connected eagerly, health-checked by {@link HealthProbe}.
 *
 * <p>It takes calls ({@link #tryCall} admits) only while its channel is {@code READY} and the
 * server has not pushed a status other than {@code SERVING}; the balancer skips it otherwise and
 * hears through {@link #whenReady} when that may have changed. Its connection leaving {@code
 * READY} (the server went away, or sent GOAWAY) completes {@link #closed}, so the pool replaces it
 * under the address's backoff, as warm_channels replaces a dropped connection. Thread-safe.
 */
final class GrpcMember implements PoolMember<Attempt<?, ?>, Status> {
    private final InetSocketAddress address;
    private final ManagedChannel channel;
    private final @Nullable HealthProbe health;
    private final CompletableFuture<Void> gone = new CompletableFuture<>();
    private final AtomicReference<CompletableFuture<Void>> readySignal =
            new AtomicReference<>(new CompletableFuture<>());
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean wasReady;

    private GrpcMember(InetSocketAddress address, ManagedChannel channel, @Nullable HealthSettings health) {
        this.address = address;
        this.channel = channel;
        this.health = health == null
                ? null
                : new HealthProbe(channel, health.service(), health.timeout(), this::signalReadiness);
    }

    /** The health checking settings of members: the service name and a Check's deadline. */
    record HealthSettings(String service, java.time.Duration timeout) {}

    /**
     * Connects a member over {@code channel} (built for {@code address}, not yet connected): the
     * stage completes with the member when the channel is {@code READY}, or fails with the reason the
     * first connection failed (the channel is then shut down).
     */
    static CompletionStage<GrpcMember> connect(
            InetSocketAddress address, ManagedChannel channel, @Nullable HealthSettings health) {
        GrpcMember member = new GrpcMember(address, channel, health);
        CompletableFuture<GrpcMember> connected = new CompletableFuture<>();
        member.follow(channel.getState(true), connected);
        connected.whenComplete((ok, failure) -> {
            if (connected.isCancelled()) {
                member.close();
            }
        });
        return connected;
    }

    private void follow(ConnectivityState seen, CompletableFuture<GrpcMember> connected) {
        switch (seen) {
            case READY -> {
                wasReady = true;
                if (!connected.complete(this)) {
                    // Connected after the pool gave up on the connection.
                    close();
                    return;
                }
                signalReadiness();
            }
            case TRANSIENT_FAILURE -> {
                if (!connected.isDone()) {
                    connected.completeExceptionally(
                            new MemberConnectException("could not connect to " + address + " (TRANSIENT_FAILURE)"));
                    close();
                    return;
                }
            }
            case IDLE, CONNECTING -> {
                if (wasReady) {
                    lost("the connection to " + address + " went " + seen);
                }
            }
            case SHUTDOWN -> {
                if (!connected.isDone()) {
                    connected.completeExceptionally(new MemberConnectException("member channel shut down"));
                }
                lost("member channel shut down");
                signalReadiness();
                return;
            }
        }
        if (wasReady && seen == ConnectivityState.TRANSIENT_FAILURE) {
            lost("the connection to " + address + " failed");
        }
        signalReadiness();
        channel.notifyWhenStateChanged(seen, () -> follow(channel.getState(false), connected));
    }

    private void lost(String why) {
        gone.completeExceptionally(new MemberConnectException(why));
    }

    /** The grpc-java channel of this member. */
    ManagedChannel channel() {
        return channel;
    }

    InetSocketAddress address() {
        return address;
    }

    @Override
    public CompletableFuture<Status> call(Attempt<?, ?> attempt) {
        return attempt.runOn(this);
    }

    @Override
    public @Nullable CompletableFuture<Status> tryCall(Attempt<?, ?> attempt) {
        return readiness() == Readiness.READY ? attempt.runOn(this) : null;
    }

    @Override
    public Readiness readiness() {
        if (closed.get() || gone.isDone()) {
            return Readiness.CLOSED;
        }
        boolean serving = health == null || !health.pushedNotServing();
        return serving && channel.getState(false) == ConnectivityState.READY ? Readiness.READY : Readiness.BUSY;
    }

    @Override
    public CompletionStage<Void> whenReady() {
        CompletableFuture<Void> signal = readySignal.get();
        // Checked after taking the signal, so a change in between is not missed.
        return readiness() == Readiness.BUSY ? signal.copy() : CompletableFuture.completedFuture(null);
    }

    private void signalReadiness() {
        readySignal.getAndSet(new CompletableFuture<>()).complete(null);
    }

    @Override
    public CompletionStage<?> checkHealth() {
        HealthProbe probe = health;
        if (probe == null) {
            // Health checking is off: a connected member is healthy.
            return channel.getState(false) == ConnectivityState.READY
                    ? CompletableFuture.completedFuture(null)
                    : CompletableFuture.failedFuture(new MemberConnectException("not connected"));
        }
        return probe.probe();
    }

    @Override
    public CompletionStage<?> closed() {
        return gone;
    }

    /** Stops health checking and shuts the channel down; calls in flight finish. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (health != null) {
            health.stop();
        }
        channel.shutdown();
        signalReadiness();
    }

    @Override
    public String toString() {
        return "GrpcMember[" + address + "]";
    }

    /** A member's connection failed or was lost. */
    static final class MemberConnectException extends Exception {
        private static final long serialVersionUID = 1L;

        MemberConnectException(String message) {
            super(message, null, false, false);
        }
    }
}
