package dev.belfry.http.internal.body;

import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * One pass over a body's chunks: input is pushed in, output is polled out, so a transform may turn
 * one chunk into none, one or several (an inflater's output comes in bounded pieces).
 *
 * <p>A {@link TransformedBody} calls these methods one at a time, never concurrently, and calls
 * {@link #close} exactly once, last, however the stream ended. A method that throws fails the body
 * with that exception (the upstream is cancelled and {@code close} still runs).
 */
public abstract class Transform {
    /** Takes ownership of {@code chunk}; called only after {@link #poll} returned {@code null}. */
    public abstract void push(ByteBuf chunk);

    /** The next output chunk (owned by the caller), or {@code null} if more input is needed. */
    public abstract @Nullable ByteBuf poll();

    /** The input has ended; {@link #poll} then returns what remains and {@code null} at the end. */
    public void end() {}

    /**
     * Releases what the transform holds. {@code failure} is {@code null} when the body completed,
     * a {@link java.util.concurrent.CancellationException} when it was cancelled or discarded, and
     * the body's failure otherwise.
     */
    public void close(@Nullable Throwable failure) {}

    /** A transform that passes each chunk through unchanged: override the hooks to watch it. */
    public static class PassThrough extends Transform {
        private @Nullable ByteBuf held;

        @Override
        public void push(ByteBuf chunk) {
            seen(chunk);
            held = chunk;
        }

        @Override
        public @Nullable ByteBuf poll() {
            ByteBuf out = held;
            held = null;
            return out;
        }

        /** Called with each chunk as it passes, before it is passed on; may throw to fail the body. */
        protected void seen(ByteBuf chunk) {}

        @Override
        public void close(@Nullable Throwable failure) {
            ByteBuf leftover = held;
            held = null;
            if (leftover != null) {
                leftover.release();
            }
        }
    }
}
