package dev.belfry.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.belfry.Checks;
import io.netty.buffer.ByteBuf;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import org.jspecify.annotations.Nullable;

/**
 * The body of an HTTP message: a stream of byte chunks with demand, its length if known, and its
 * trailers.
 *
 * <p>A streamed body (one arriving from a connection, or built {@link #fromPublisher from a
 * publisher}) is consumed at most once, by exactly one of {@link #publisher()}, {@link
 * #subscribeBuffers}, a {@code collect} helper or {@link #discard()}; a second consumer gets {@link
 * IllegalStateException} through {@code onError}. A body held in memory ({@link #of(byte[])}, {@link
 * #empty()}) may be read any number of times, so a constant response can be served again.
 *
 * <p>Demand is backpressure: a connection feeding a body is read only while its subscriber has
 * outstanding demand. Whoever holds a body owns it until it is consumed or discarded (see {@code
 * docs/http.md}). Thread-safe: subscription methods may be called from any thread.
 */
public abstract class Body {
    private static final VarHandle SUBSCRIBED;

    static {
        try {
            SUBSCRIBED = MethodHandles.lookup().findVarHandle(Body.class, "subscribed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // Set once by the first consumer of a streamed body (a field, not an AtomicBoolean: one object
    // less per message).
    @SuppressWarnings("UnusedVariable") // read and written through SUBSCRIBED
    private volatile boolean subscribed;

    /** For subclasses in Belfry only. */
    protected Body() {}

    /** A body with no bytes. */
    public static Body empty() {
        return new FixedBody(new byte[0]);
    }

    /** A body holding {@code bytes} (not copied: do not change the array afterwards). */
    public static Body of(byte[] bytes) {
        return new FixedBody(Checks.notNull(bytes, "bytes"));
    }

    /** A body holding {@code text} encoded as UTF-8. */
    public static Body of(String text) {
        return new FixedBody(Checks.notNull(text, "text").getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A body holding {@code value} written as JSON with the shared {@link Json#mapper()}.
     *
     * @throws IllegalArgumentException if Jackson cannot write the value
     */
    public static Body json(@Nullable Object value) {
        try {
            return new FixedBody(Json.mapper().writeValueAsBytes(value));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "cannot write " + describe(value) + " as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * A streamed body from any {@link Flow.Publisher} of byte chunks (Reactor, RxJava and Mutiny
     * publishers adapt to it in one call). Demand passes straight through to {@code source}; each
     * buffer is read when it is written and must not be changed afterwards.
     *
     * @param contentLength the exact total length, or {@code -1} if unknown (then HTTP/1.1 sends it
     *     chunked)
     */
    public static Body fromPublisher(Flow.Publisher<ByteBuffer> source, long contentLength) {
        Checks.notNull(source, "source");
        if (contentLength < -1) {
            throw new IllegalArgumentException("contentLength must be -1 (unknown) or more, was " + contentLength);
        }
        return new PublisherBody(source, contentLength);
    }

    /** The exact length in bytes, or {@code -1} if unknown until the stream ends. */
    public abstract long contentLength();

    /**
     * Whether the body may be read more than once (it is held in memory). A repeatable body needs no
     * {@link #discard()}.
     */
    public boolean repeatable() {
        return false;
    }

    /**
     * The trailer fields, complete after the last chunk: empty when there were none. Fails if the
     * body fails.
     */
    public abstract CompletionStage<Headers> trailers();

    /**
     * Subscribes to the raw buffers: the zero-copy form for Netty-aware code. <b>Each {@link ByteBuf}
     * passed to {@code onNext} belongs to the subscriber, which must release it exactly once.</b>
     */
    public final void subscribeBuffers(Flow.Subscriber<? super ByteBuf> subscriber) {
        Checks.notNull(subscriber, "subscriber");
        if (!repeatable() && !SUBSCRIBED.compareAndSet(this, false, true)) {
            subscriber.onSubscribe(NoSubscription.INSTANCE);
            subscriber.onError(new IllegalStateException("a streamed body can be consumed only once"));
            return;
        }
        subscribe(subscriber);
    }

    /** Delivers the chunks to {@code subscriber}, called at most once unless {@link #repeatable()}. */
    protected abstract void subscribe(Flow.Subscriber<? super ByteBuf> subscriber);

    /**
     * The body as a {@link Flow.Publisher} of byte chunks, each a fresh heap {@link ByteBuffer} the
     * subscriber may keep; the network buffer behind it is released before {@code onNext} returns.
     */
    public Flow.Publisher<ByteBuffer> publisher() {
        return subscriber -> subscribeBuffers(new CopyingSubscriber(subscriber));
    }

    /**
     * Collects the whole body, failing with {@link BodyTooLargeException} (and cancelling the stream)
     * as soon as it passes {@code maxBytes}. Cancelling the returned future cancels the stream.
     */
    public CompletableFuture<byte[]> collectBytes(int maxBytes) {
        Checks.nonNegative(maxBytes, "maxBytes");
        Collector collector = new Collector(maxBytes);
        subscribeBuffers(collector);
        return collector.result;
    }

    /** Collects the whole body as UTF-8 text, with {@link #collectBytes}'s cap and failures. */
    public CompletableFuture<String> collectUtf8(int maxBytes) {
        return collectBytes(maxBytes).thenApply(bytes -> new String(bytes, StandardCharsets.UTF_8));
    }

    /**
     * Collects the whole body and reads it as JSON into {@code type}; a body that is not valid JSON
     * for the type fails with {@link BadRequestException} naming the problem and where it is.
     */
    public <T> CompletableFuture<T> collectJson(Class<T> type, int maxBytes) {
        Checks.notNull(type, "type");
        return collectBytes(maxBytes).thenApply(bytes -> Json.read(bytes, type));
    }

    /**
     * Gives the body up: buffered chunks are released and the producer is told to stop. Idempotent,
     * and a no-op once the body was consumed by someone else.
     */
    public void discard() {
        if (repeatable()) {
            return;
        }
        if (SUBSCRIBED.compareAndSet(this, false, true)) {
            subscribe(Discarding.INSTANCE);
        }
    }

    private static String describe(@Nullable Object value) {
        return value == null ? "null" : value.getClass().getName();
    }

    /** Cancels at once; releases anything that still arrives. */
    private enum Discarding implements Flow.Subscriber<ByteBuf> {
        INSTANCE;

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.cancel();
        }

        @Override
        public void onNext(ByteBuf item) {
            item.release();
        }

        @Override
        public void onError(Throwable throwable) {}

        @Override
        public void onComplete() {}
    }

    enum NoSubscription implements Flow.Subscription {
        INSTANCE;

        @Override
        public void request(long n) {}

        @Override
        public void cancel() {}
    }

    private static final class CopyingSubscriber implements Flow.Subscriber<ByteBuf> {
        private final Flow.Subscriber<? super ByteBuffer> downstream;

        CopyingSubscriber(Flow.Subscriber<? super ByteBuffer> downstream) {
            this.downstream = downstream;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            downstream.onSubscribe(subscription);
        }

        @Override
        public void onNext(ByteBuf item) {
            ByteBuffer copy;
            try {
                copy = ByteBuffer.allocate(item.readableBytes());
                item.readBytes(copy);
                copy.flip();
            } finally {
                item.release();
            }
            downstream.onNext(copy);
        }

        @Override
        public void onError(Throwable throwable) {
            downstream.onError(throwable);
        }

        @Override
        public void onComplete() {
            downstream.onComplete();
        }
    }

    /** Accumulates chunks up to a cap, releasing each as soon as it is copied. */
    private static final class Collector implements Flow.Subscriber<ByteBuf> {
        final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final int maxBytes;
        private byte[] bytes = new byte[0];
        private int size;
        private Flow.@Nullable Subscription subscription;

        Collector(int maxBytes) {
            this.maxBytes = maxBytes;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            result.whenComplete((r, f) -> {
                if (result.isCancelled()) {
                    subscription.cancel();
                }
            });
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(ByteBuf item) {
            try {
                if (result.isDone()) {
                    return;
                }
                int readable = item.readableBytes();
                if ((long) size + readable > maxBytes) {
                    result.completeExceptionally(new BodyTooLargeException(maxBytes));
                    if (subscription != null) {
                        subscription.cancel();
                    }
                    return;
                }
                if (size + readable > bytes.length) {
                    bytes = Arrays.copyOf(bytes, Math.min(maxBytes, Math.max(size + readable, bytes.length * 2)));
                }
                item.readBytes(bytes, size, readable);
                size += readable;
            } finally {
                item.release();
            }
        }

        @Override
        public void onError(Throwable throwable) {
            result.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            result.complete(size == bytes.length ? bytes : Arrays.copyOf(bytes, size));
        }
    }
}
