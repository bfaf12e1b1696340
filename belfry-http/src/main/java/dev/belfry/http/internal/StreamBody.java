package dev.belfry.http.internal;

import dev.belfry.http.Body;
import dev.belfry.http.Headers;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayDeque;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import org.jspecify.annotations.Nullable;

/**
 * A body fed by a connection: the producer offers chunks on its event loop, the subscriber's demand
 * tells the producer when to read more.
 *
 * <p>All state lives on one event loop: producer calls ({@link #offer}, {@link #end}, {@link #fail})
 * must be made there, and subscription calls from other threads hop to it. Subscriber signals are
 * delivered on it. The producer reads only when {@link Source#demand} is called, so at most what one
 * read delivers is ever queued. Every queued buffer is released exactly once: passed to the
 * subscriber (who then owns it), or released here on cancel, failure or a late offer.
 */
public final class StreamBody extends Body {
    /** The producer's side: where demand and cancellation go. Called on the event loop. */
    public interface Source {
        /** The subscriber wants more and nothing is queued: read from the connection. */
        void demand();

        /** The subscriber cancelled (or the body was discarded) before the end. */
        void cancelled();
    }

    private final EventExecutor loop;
    private final long contentLength;
    private final Source source;
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>(4);
    private final CompletableFuture<Headers> trailers = new CompletableFuture<>();
    private Flow.@Nullable Subscriber<? super ByteBuf> subscriber;
    private long demand;
    private boolean ended;
    private @Nullable Headers endTrailers;
    private @Nullable Throwable failure;
    private boolean terminated;
    private boolean cancelled;
    private boolean delivering;

    public StreamBody(EventExecutor loop, long contentLength, Source source) {
        this.loop = loop;
        this.contentLength = contentLength;
        this.source = source;
    }

    @Override
    public long contentLength() {
        return contentLength;
    }

    @Override
    public CompletionStage<Headers> trailers() {
        return trailers.minimalCompletionStage();
    }

    /** Whether the stream reached its end, failed, or was cancelled: nothing more is wanted. */
    public boolean finished() {
        return ended || cancelled;
    }

    /** Whether the body was cancelled or discarded before its end. */
    public boolean cancelled() {
        return cancelled;
    }

    /** Whether someone subscribed to (or discarded) the body; on the event loop. */
    public boolean hasSubscriber() {
        return subscriber != null;
    }

    /** Whether a subscriber wants more and nothing is queued; on the event loop. */
    public boolean wantsMore() {
        return subscriber != null && !cancelled && !ended && demand > 0 && queue.isEmpty();
    }

    /** Queues a chunk (taking ownership of it); on the event loop. */
    public void offer(ByteBuf chunk) {
        if (cancelled || ended) {
            chunk.release();
            return;
        }
        queue.add(chunk);
        drain();
    }

    /** Ends the stream after the queued chunks, with {@code trailerFields}; on the event loop. */
    public void end(Headers trailerFields) {
        if (ended) {
            return;
        }
        ended = true;
        endTrailers = trailerFields;
        drain();
    }

    /** Fails the stream at once, dropping queued chunks; on the event loop. */
    public void fail(Throwable cause) {
        if (ended) {
            return;
        }
        ended = true;
        failure = cause;
        releaseQueue();
        trailers.completeExceptionally(cause);
        drain();
    }

    @Override
    protected void subscribe(Flow.Subscriber<? super ByteBuf> s) {
        onLoop(() -> {
            subscriber = s;
            s.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                    onLoop(() -> requested(n));
                }

                @Override
                public void cancel() {
                    onLoop(StreamBody.this::cancelNow);
                }
            });
            drain();
        });
    }

    private void requested(long n) {
        if (terminated || cancelled) {
            return;
        }
        if (n <= 0) {
            var s = subscriber;
            cancelNow();
            if (s != null) {
                s.onError(new IllegalArgumentException("request(n) needs n > 0, was " + n));
            }
            return;
        }
        demand += n;
        if (demand < 0) {
            demand = Long.MAX_VALUE;
        }
        drain();
    }

    private void cancelNow() {
        if (terminated || cancelled) {
            return;
        }
        cancelled = true;
        releaseQueue();
        trailers.completeExceptionally(new CancellationException("body cancelled"));
        if (!ended) {
            source.cancelled();
        }
    }

    private void drain() {
        var s = subscriber;
        if (s == null || delivering) {
            return;
        }
        delivering = true;
        try {
            while (!terminated && !cancelled) {
                Throwable f = failure;
                if (f != null) {
                    terminated = true;
                    s.onError(f);
                } else if (demand > 0 && !queue.isEmpty()) {
                    demand--;
                    s.onNext(queue.poll());
                } else if (queue.isEmpty() && ended) {
                    terminated = true;
                    trailers.complete(endTrailers == null ? Headers.empty() : endTrailers);
                    s.onComplete();
                } else {
                    break;
                }
            }
        } finally {
            delivering = false;
        }
        if (wantsMore()) {
            source.demand();
        }
    }

    private void releaseQueue() {
        ByteBuf chunk;
        while ((chunk = queue.poll()) != null) {
            chunk.release();
        }
    }

    private void onLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }
}
