package dev.belfry.http.internal.body;

import dev.belfry.Checks;
import dev.belfry.http.Body;
import dev.belfry.http.Headers;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A body whose chunks pass through a {@link Transform} on their way to the subscriber.
 *
 * <p>Demand-driven: the source is asked for one chunk at a time, only when the subscriber wants
 * output and the transform has none, so nothing is buffered beyond the chunk in hand and what the
 * transform keeps. Single-use (whatever the source is). Every path releases every buffer once: a
 * chunk arriving after the end is released at once, and {@link Transform#close} runs exactly once
 * when the stream completes, fails, or is cancelled. All work is serialized by a drain loop, so the
 * transform needs no locking of its own; signals to the subscriber never nest or overlap.
 */
public final class TransformedBody extends Body {
    private final Body source;
    private final long contentLength;
    private final Supplier<? extends Transform> transform;

    /**
     * Wraps {@code source}; {@code contentLength} is the transformed length if known (the source's
     * for a pass-through), else {@code -1}. {@code transform} is called once, at subscription.
     */
    public TransformedBody(Body source, long contentLength, Supplier<? extends Transform> transform) {
        this.source = Checks.notNull(source, "source");
        this.contentLength = contentLength;
        this.transform = Checks.notNull(transform, "transform");
    }

    @Override
    public long contentLength() {
        return contentLength;
    }

    @Override
    public CompletionStage<Headers> trailers() {
        return source.trailers();
    }

    @Override
    protected void subscribe(Flow.Subscriber<? super ByteBuf> subscriber) {
        Transform pass;
        try {
            pass = transform.get();
        } catch (RuntimeException e) {
            source.discard();
            subscriber.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {}

                @Override
                public void cancel() {}
            });
            subscriber.onError(e);
            return;
        }
        source.subscribeBuffers(new Middle(subscriber, pass));
    }

    /** Subscriber to the source and subscription for the downstream, joined by one drain loop. */
    private static final class Middle implements Flow.Subscriber<ByteBuf>, Flow.Subscription {
        private final Flow.Subscriber<? super ByteBuf> downstream;
        private final Transform transform;
        private final AtomicInteger wip = new AtomicInteger();
        private final AtomicLong demand = new AtomicLong();
        private final AtomicReference<@Nullable ByteBuf> input = new AtomicReference<>();
        private volatile Flow.@Nullable Subscription upstream;
        private volatile boolean upstreamAsked;
        private volatile boolean upstreamDone;
        private volatile @Nullable Throwable upstreamFailure;
        private volatile boolean cancelled;
        private volatile boolean terminated;
        // Touched only inside the drain loop.
        private boolean ended;

        Middle(Flow.Subscriber<? super ByteBuf> downstream, Transform transform) {
            this.downstream = downstream;
            this.transform = transform;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            upstream = subscription;
            downstream.onSubscribe(this);
            drain();
        }

        @Override
        public void onNext(ByteBuf item) {
            if (terminated || !input.compareAndSet(null, item)) {
                // After the end, or more than was asked for: not ours to pass on.
                item.release();
                return;
            }
            upstreamAsked = false;
            drain();
        }

        @Override
        public void onError(Throwable throwable) {
            upstreamFailure = throwable;
            upstreamDone = true;
            drain();
        }

        @Override
        public void onComplete() {
            upstreamDone = true;
            drain();
        }

        @Override
        public void request(long n) {
            if (n <= 0) {
                upstreamFailure = new IllegalArgumentException("request(n) needs n > 0, was " + n);
                upstreamDone = true;
                cancelUpstream();
            } else {
                demand.accumulateAndGet(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
            }
            drain();
        }

        @Override
        public void cancel() {
            cancelled = true;
            cancelUpstream();
            drain();
        }

        private void cancelUpstream() {
            Flow.Subscription s = upstream;
            if (s != null) {
                s.cancel();
            }
        }

        private void drain() {
            if (wip.getAndIncrement() != 0) {
                return;
            }
            int missed = 1;
            while (true) {
                if (!terminated) {
                    step();
                }
                if (terminated) {
                    // Whatever arrived during or after the end is released here, once.
                    ByteBuf late = input.getAndSet(null);
                    if (late != null) {
                        late.release();
                    }
                }
                missed = wip.addAndGet(-missed);
                if (missed == 0) {
                    return;
                }
            }
        }

        private void step() {
            if (cancelled) {
                terminate(new CancellationException("body cancelled"), false);
                return;
            }
            Throwable failure = upstreamFailure;
            if (failure != null) {
                terminate(failure, true);
                return;
            }
            ByteBuf chunk = input.getAndSet(null);
            try {
                if (chunk != null) {
                    ByteBuf owned = chunk;
                    chunk = null;
                    transform.push(owned);
                }
                while (demand.get() > 0 && !cancelled) {
                    ByteBuf out = transform.poll();
                    if (out != null) {
                        demand.decrementAndGet();
                        downstream.onNext(out);
                        continue;
                    }
                    if (upstreamDone) {
                        if (!ended) {
                            ended = true;
                            transform.end();
                            continue;
                        }
                        terminate(null, true);
                        return;
                    }
                    Flow.Subscription s = upstream;
                    if (s != null && !upstreamAsked) {
                        upstreamAsked = true;
                        s.request(1); // may deliver at once: onNext queues it and bumps wip
                    }
                    return;
                }
                if (cancelled) {
                    terminate(new CancellationException("body cancelled"), false);
                }
            } catch (RuntimeException | Error e) {
                // An Error too (a codec library missing at run time): the buffers must still be
                // released and the subscriber told, or the stream would hang holding them.
                if (chunk != null) {
                    chunk.release();
                }
                cancelUpstream();
                terminate(e, true);
            }
        }

        private void terminate(@Nullable Throwable failure, boolean tellDownstream) {
            terminated = true;
            try {
                transform.close(failure);
            } finally {
                if (tellDownstream) {
                    if (failure == null) {
                        downstream.onComplete();
                    } else {
                        downstream.onError(failure);
                    }
                }
            }
        }
    }
}
