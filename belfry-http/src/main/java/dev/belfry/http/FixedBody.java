package dev.belfry.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A body held in memory, readable any number of times: what {@link Body#of(byte[])}, {@link
 * Body#of(String)}, {@link Body#json} and {@link Body#empty()} make. The server and the client write
 * it whole with the message head instead of subscribing to it.
 */
public final class FixedBody extends Body {
    private static final CompletableFuture<Headers> NO_TRAILERS = CompletableFuture.completedFuture(Headers.empty());
    private final byte[] bytes;

    /** A body of {@code bytes}, not copied: the array must not change afterwards. */
    FixedBody(byte[] bytes) {
        this.bytes = bytes;
    }

    /**
     * The bytes themselves, not a copy: for writers that send a body held in memory in one piece,
     * with no subscription. They must not be changed.
     */
    public byte[] bytes() {
        return bytes;
    }

    @Override
    public long contentLength() {
        return bytes.length;
    }

    @Override
    public boolean repeatable() {
        return true;
    }

    @Override
    public CompletionStage<Headers> trailers() {
        return NO_TRAILERS.minimalCompletionStage();
    }

    @Override
    protected void subscribe(Flow.Subscriber<? super ByteBuf> subscriber) {
        new OneChunk(subscriber, bytes).start();
    }

    /**
     * Emits one chunk (none if empty) and completes. Reentrant {@code request} calls from inside
     * {@code onNext} are trampolined, so signals never nest.
     */
    private static final class OneChunk implements Flow.Subscription {
        private final Flow.Subscriber<? super ByteBuf> subscriber;
        private final byte[] bytes;
        private long demand;
        private boolean emitted;
        private boolean done;
        private boolean draining;

        OneChunk(Flow.Subscriber<? super ByteBuf> subscriber, byte[] bytes) {
            this.subscriber = subscriber;
            this.bytes = bytes;
            this.emitted = bytes.length == 0;
        }

        void start() {
            subscriber.onSubscribe(this);
            synchronized (this) {
                if (done || draining) {
                    return;
                }
                if (emitted) {
                    done = true;
                } else {
                    return;
                }
            }
            subscriber.onComplete();
        }

        @Override
        public void request(long n) {
            synchronized (this) {
                if (done) {
                    return;
                }
                if (n <= 0) {
                    done = true;
                } else {
                    demand += n;
                    if (demand < 0) {
                        demand = Long.MAX_VALUE;
                    }
                }
                if (draining) {
                    return;
                }
                draining = true;
            }
            if (n <= 0) {
                subscriber.onError(new IllegalArgumentException("request(n) needs n > 0, was " + n));
                return;
            }
            drain();
        }

        private void drain() {
            boolean emit;
            synchronized (this) {
                emit = !emitted && demand > 0 && !done;
                if (emit) {
                    emitted = true;
                    demand--;
                }
            }
            if (emit) {
                subscriber.onNext(Unpooled.wrappedBuffer(bytes));
            }
            synchronized (this) {
                draining = false;
                if (done || !emitted) {
                    return;
                }
                done = true;
            }
            subscriber.onComplete();
        }

        @Override
        public void cancel() {
            synchronized (this) {
                done = true;
            }
        }
    }
}
