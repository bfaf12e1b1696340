package dev.belfry.http.internal.body;

import dev.belfry.http.Body;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A streamed test body: emits the given chunks on demand, synchronously, and records whether its
 * subscriber cancelled and how many chunks it was asked for.
 */
public final class Chunks implements Flow.Publisher<ByteBuffer> {
    private final List<byte[]> chunks;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final AtomicInteger emitted = new AtomicInteger();

    private Chunks(List<byte[]> chunks) {
        this.chunks = chunks;
    }

    /** Chunks of UTF-8 text. */
    public static Chunks of(String... texts) {
        return new Chunks(java.util.Arrays.stream(texts)
                .map(t -> t.getBytes(StandardCharsets.UTF_8))
                .toList());
    }

    /** Chunks of bytes. */
    public static Chunks ofBytes(List<byte[]> chunks) {
        return new Chunks(List.copyOf(chunks));
    }

    /** A body of unknown length streaming these chunks. */
    public Body body() {
        return Body.fromPublisher(this, -1);
    }

    /** A body declaring {@code length} streaming these chunks. */
    public Body body(long length) {
        return Body.fromPublisher(this, length);
    }

    public boolean cancelled() {
        return cancelled.get();
    }

    public int emitted() {
        return emitted.get();
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
        subscriber.onSubscribe(new Flow.Subscription() {
            private long demand;
            private boolean draining;
            private boolean done;

            @Override
            public void request(long n) {
                demand += n;
                if (draining) {
                    return;
                }
                draining = true;
                while (demand > 0 && !done && !cancelled.get()) {
                    int next = emitted.get();
                    if (next == chunks.size()) {
                        done = true;
                        subscriber.onComplete();
                        break;
                    }
                    demand--;
                    emitted.incrementAndGet();
                    subscriber.onNext(ByteBuffer.wrap(chunks.get(next)));
                }
                if (!done && emitted.get() == chunks.size() && !cancelled.get()) {
                    done = true;
                    subscriber.onComplete();
                }
                draining = false;
            }

            @Override
            public void cancel() {
                cancelled.set(true);
            }
        });
    }
}
