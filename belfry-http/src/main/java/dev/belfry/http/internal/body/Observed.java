package dev.belfry.http.internal.body;

import dev.belfry.http.Body;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/** Bodies that count their bytes as they stream and report once how they ended. */
public final class Observed {
    private Observed() {}

    /** Told once how an observed body ended. */
    @FunctionalInterface
    public interface Listener {
        /**
         * The body ended after {@code bytes} bytes: {@code failure} is {@code null} if it completed,
         * a {@link java.util.concurrent.CancellationException} if it was cancelled or discarded,
         * otherwise the body's failure.
         */
        void ended(long bytes, @Nullable Throwable failure);
    }

    /**
     * {@code body}, counting into {@code counter} as chunks pass and calling {@code listener} (if
     * any) once at the end. The length is the source's.
     */
    public static Body counting(Body body, AtomicLong counter, @Nullable Listener listener) {
        return new TransformedBody(body, body.contentLength(), () -> new Transform.PassThrough() {
            @Override
            protected void seen(ByteBuf chunk) {
                counter.addAndGet(chunk.readableBytes());
            }

            @Override
            public void close(@Nullable Throwable failure) {
                super.close(failure);
                if (listener != null) {
                    listener.ended(counter.get(), failure);
                }
            }
        });
    }
}
