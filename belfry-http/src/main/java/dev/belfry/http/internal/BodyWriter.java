package dev.belfry.http.internal;

import dev.belfry.http.Body;
import dev.belfry.http.Headers;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.Flow;
import org.jspecify.annotations.Nullable;

/**
 * Writes a streamed {@link Body} to a channel chunk by chunk: as HTTP/1 content into a channel, or
 * through any other {@link Sink} (an HTTP/2 stream's DATA frames).
 *
 * <p>The next chunk is requested only when the previous one went into a writable channel, so a peer
 * that reads slowly holds the publisher back (the owner calls {@link #resume()} when the channel is
 * writable again). Writes are flushed when the channel stops being writable and whenever the next
 * chunk is not there at once, so a slow publisher's chunks still reach the peer; the last content
 * (with the body's trailers, if any) is left to the owner to write.
 *
 * <p>Every signal is handled on the channel's event loop, whatever thread the publisher calls from.
 * A chunk that arrives after the writer was cancelled or replaced (its owner no longer names it
 * {@linkplain Owner#isCurrent current}) is released there. Not thread-safe otherwise: {@link
 * #resume()}, {@link #cancel()} and the accessors are for the event loop.
 */
public final class BodyWriter implements Flow.Subscriber<ByteBuf> {
    /** The connection a writer works for; every call comes on the channel's event loop. */
    public interface Owner {
        /** Whether {@code writer} is still the one writing; one that is not drops what it gets. */
        boolean isCurrent(BodyWriter writer);

        /** Writing a chunk of {@code writer}'s body failed (the connection is failing). */
        void chunkFailed(BodyWriter writer, @Nullable Throwable cause);

        /** {@code writer}'s publisher failed with {@code failure}: the body is cut short. */
        void bodyFailed(BodyWriter writer, Throwable failure);

        /** {@code writer}'s body ended: {@code last} (with its trailers) is for the owner to write and flush. */
        void bodyEnded(BodyWriter writer, LastHttpContent last);
    }

    /**
     * Where the chunks go: one HTTP/1 connection, or one HTTP/2 stream of a connection. Every call
     * comes on {@link #executor()}.
     */
    public interface Sink {
        /** The event loop every signal is handled on. */
        EventExecutor executor();

        /** Writes one chunk (taking ownership of it) without flushing. */
        ChannelFuture write(ByteBuf chunk);

        /** Whether the next chunk may be written now. */
        boolean isWritable();

        /** Flushes what was written. */
        void flush();
    }

    private final Sink sink;
    private final Body body;
    private final Owner owner;
    private final ChannelFutureListener onChunkWritten;
    private Flow.@Nullable Subscription subscription;
    private boolean done;
    private boolean waitingForWritability;
    private boolean requesting;
    private boolean again;
    private boolean signalled;
    private boolean wroteSinceFlush;

    /**
     * A writer of {@code body} into {@code ctx}; {@code headUnflushed} says whether the owner wrote
     * the message head without flushing it (the writer then flushes it with the first chunks).
     * Subscribe it with {@link #start()}.
     */
    public BodyWriter(ChannelHandlerContext ctx, Body body, Owner owner, boolean headUnflushed) {
        this(http1(ctx), body, owner, headUnflushed);
    }

    /** A writer of {@code body} into {@code sink}; see the other constructor. */
    public BodyWriter(Sink sink, Body body, Owner owner, boolean headUnflushed) {
        this.sink = sink;
        this.body = body;
        this.owner = owner;
        this.wroteSinceFlush = headUnflushed;
        this.onChunkWritten = f -> {
            if (!f.isSuccess()) {
                owner.chunkFailed(this, f.cause());
            }
        };
    }

    private static Sink http1(ChannelHandlerContext ctx) {
        return new Sink() {
            @Override
            public EventExecutor executor() {
                return ctx.executor();
            }

            @Override
            public ChannelFuture write(ByteBuf chunk) {
                return ctx.write(new DefaultHttpContent(chunk));
            }

            @Override
            public boolean isWritable() {
                return ctx.channel().isWritable();
            }

            @Override
            public void flush() {
                ctx.flush();
            }
        };
    }

    /** Subscribes to the body; chunks may be written before this returns. */
    public void start() {
        body.subscribeBuffers(this);
    }

    /** Whether something was written and not flushed yet. */
    public boolean wroteSinceFlush() {
        return wroteSinceFlush;
    }

    /** Whether the writer waits for the channel to become writable ({@link #resume()}). */
    public boolean waitingForWritability() {
        return waitingForWritability;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        onLoop(() -> {
            if (done || !owner.isCurrent(this)) {
                s.cancel();
                return;
            }
            subscription = s;
            requestNext();
        });
    }

    @Override
    public void onNext(ByteBuf chunk) {
        onLoop(() -> {
            signalled = true;
            if (done || !owner.isCurrent(this)) {
                chunk.release();
                return;
            }
            sink.write(chunk).addListener(onChunkWritten);
            wroteSinceFlush = true;
            if (sink.isWritable()) {
                requestNext();
            } else {
                // Waiting before the flush: on epoll and NIO the flush writes to the socket at once,
                // and if the socket takes everything the channel turns writable again inside this
                // call, firing the owner's resume() now. Set after the flush, the flag would miss
                // that event and the body would stall until a timeout (io_uring's writes complete
                // later, so it never showed there).
                wroteSinceFlush = false;
                waitingForWritability = true;
                sink.flush();
            }
        });
    }

    @Override
    public void onError(Throwable failure) {
        onLoop(() -> {
            if (done || !owner.isCurrent(this)) {
                return;
            }
            done = true;
            owner.bodyFailed(this, failure);
        });
    }

    @Override
    public void onComplete() {
        onLoop(() -> {
            if (done || !owner.isCurrent(this)) {
                return;
            }
            done = true;
            Headers trailers = body.trailers().toCompletableFuture().getNow(Headers.empty());
            LastHttpContent last = LastHttpContent.EMPTY_LAST_CONTENT;
            if (!trailers.isEmpty()) {
                last = new DefaultLastHttpContent();
                HttpHeaders fields = last.trailingHeaders();
                trailers.forEach((name, value) -> fields.add(name, value));
            }
            owner.bodyEnded(this, last);
        });
    }

    /** Requests the next chunk if the writer was waiting for the channel to become writable. */
    public void resume() {
        if (waitingForWritability && !done) {
            waitingForWritability = false;
            requestNext();
        }
    }

    /** Stops writing and cancels the subscription; chunks still in flight are released. Idempotent. */
    public void cancel() {
        if (done) {
            return;
        }
        done = true;
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }

    private void onLoop(Runnable task) {
        var executor = sink.executor();
        if (executor.inEventLoop()) {
            task.run();
        } else {
            executor.execute(task);
        }
    }

    private void requestNext() {
        Flow.Subscription s = subscription;
        if (s == null) {
            return;
        }
        if (requesting) {
            again = true; // asked from inside onNext: the loop below requests once more
            return;
        }
        signalled = false;
        requesting = true;
        try {
            do {
                again = false;
                s.request(1);
            } while (again && !done);
        } finally {
            requesting = false;
        }
        if (!signalled && wroteSinceFlush && !done) {
            sink.flush(); // the next chunk is not here yet: send what is written so far
            wroteSinceFlush = false;
        }
    }
}
