package dev.belfry.grpc;

import dev.belfry.AbandonedException;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientStreamTracer;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One attempt of a {@link WarmCall} on one member: what the pool balances. Its future completes
 * when the attempt's grpc-java call closes, with its status, so the balancer's Peak-EWMA measures
 * whole calls and can tell a server in trouble by the status.
 *
 * <p>A {@link ClientStreamTracer} on each attempt records what reached the wire: grpc-java's Netty
 * transport reports {@code outboundHeaders} only once the HEADERS frame of a stream it created was
 * written. Members run with grpc-java's retry off, so each attempt is one stream. An attempt that
 * closed {@code UNAVAILABLE} while its stream never sent its headers (refused, or cut off by a
 * GOAWAY or a lost connection before it left) certainly never reached a server.
 *
 * @param <ReqT> the request message type
 * @param <RespT> the response message type
 */
final class Attempt<ReqT, RespT> {
    private final WarmCall<ReqT, RespT> call;
    private final CompletableFuture<Status> done = new CompletableFuture<>();

    // Written by the transport's threads, read once the attempt has closed.
    private volatile @Nullable StreamRecord lastStream;
    private volatile @Nullable Status status;
    private volatile @Nullable Metadata trailers;
    private volatile @Nullable Thread closedBy;

    Attempt(WarmCall<ReqT, RespT> call) {
        this.call = call;
    }

    /** Starts this attempt on {@code member}'s channel; completes when it closes. */
    CompletableFuture<Status> runOn(GrpcMember member) {
        CallOptions options = call.options().withStreamTracerFactory(new Tracers());
        ClientCall<ReqT, RespT> real = call.inContext(() -> member.channel().newCall(call.method(), options));
        call.attach(this, real);
        return done;
    }

    CompletableFuture<Status> done() {
        return done;
    }

    WarmCall<ReqT, RespT> call() {
        return call;
    }

    /** Called once by the attempt's listener, on the call's executor, when the real call closes. */
    void closed(Status status, Metadata trailers) {
        this.status = status;
        this.trailers = trailers;
        this.closedBy = Thread.currentThread();
        if (call.abandoned()) {
            // A hedge's loser: the member was at least this slow, which the pool's measure keeps.
            done.completeExceptionally(new AbandonedException("another member answered first (hedged call)"));
        } else {
            done.complete(status);
        }
    }

    /**
     * Whether this thread delivered the attempt's close (so it may call the caller's listener):
     * false on any other thread, and when the attempt ended without a close from its real call.
     */
    boolean closedOnThisThread() {
        return Thread.currentThread().equals(closedBy);
    }

    Status status() {
        Status result = status;
        return result == null ? Status.UNKNOWN.withDescription("attempt did not close") : result;
    }

    Metadata trailers() {
        Metadata result = trailers;
        return result == null ? new Metadata() : result;
    }

    /** Whether the attempt certainly never reached a server: its last stream sent no headers. */
    boolean neverSent() {
        StreamRecord stream = lastStream;
        return stream == null || !stream.sent;
    }

    /** Whether a server answered anything (headers or trailers) on the attempt's last stream. */
    boolean serverAnswered() {
        StreamRecord stream = lastStream;
        return stream != null && stream.answered;
    }

    /** What one stream of the attempt did on the wire. */
    private static final class StreamRecord {
        volatile boolean sent;
        volatile boolean answered;
    }

    private final class Tracers extends ClientStreamTracer.Factory {
        @Override
        public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
            StreamRecord record = new StreamRecord();
            lastStream = record;
            return new ClientStreamTracer() {
                @Override
                public void outboundHeaders() {
                    record.sent = true;
                }

                @Override
                public void inboundHeaders() {
                    record.answered = true;
                }

                @Override
                public void inboundTrailers(Metadata trailers) {
                    record.answered = true;
                }
            };
        }
    }
}
