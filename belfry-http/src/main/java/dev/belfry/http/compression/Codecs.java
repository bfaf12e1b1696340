package dev.belfry.http.compression;

import dev.belfry.http.BadRequestException;
import dev.belfry.http.BodyTooLargeException;
import dev.belfry.http.internal.body.Transform;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.compression.Decompressor;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/** The transforms that compress and decompress a body, chunk by chunk. */
final class Codecs {
    private Codecs() {}

    /**
     * Compresses through a Netty encoder in an {@link EmbeddedChannel} (as Netty's own
     * {@code HttpContentCompressor} does): each chunk written comes out compressed and flushed, the
     * coding's trailer comes out when the input ends.
     */
    static final class Encoding extends Transform {
        private final EmbeddedChannel channel;
        private final ArrayDeque<ByteBuf> out = new ArrayDeque<>(4);

        Encoding(ContentCoding coding) {
            this.channel = new EmbeddedChannel(coding.newEncoder());
        }

        @Override
        public void push(ByteBuf chunk) {
            channel.writeOutbound(chunk); // the encoder releases it
            drainChannel();
        }

        @Override
        public @Nullable ByteBuf poll() {
            return out.poll();
        }

        @Override
        public void end() {
            channel.finish();
            drainChannel();
        }

        @Override
        public void close(@Nullable Throwable failure) {
            channel.finishAndReleaseAll();
            ByteBuf left;
            while ((left = out.poll()) != null) {
                left.release();
            }
        }

        private void drainChannel() {
            ByteBuf next;
            while ((next = channel.readOutbound()) != null) {
                if (next.isReadable()) {
                    out.add(next);
                } else {
                    next.release();
                }
            }
        }
    }

    /**
     * Inflates with a Netty {@link Decompressor}, in pieces of bounded size, failing with {@link
     * BodyTooLargeException} once the inflated total passes the cap and with {@link
     * BadRequestException} when the input is not valid for the coding.
     */
    static final class Decoding extends Transform {
        private final ContentCoding coding;
        private final long maxBytes;
        private final Decompressor decompressor;
        private long inflated;
        private boolean ended;

        Decoding(ContentCoding coding, long maxBytes, Decompressor decompressor) {
            this.coding = coding;
            this.maxBytes = maxBytes;
            this.decompressor = decompressor;
        }

        @Override
        public void push(ByteBuf chunk) {
            if (decompressor.status() == Decompressor.Status.COMPLETE) {
                chunk.release(); // bytes after the end of the stream: nothing to inflate
                return;
            }
            try {
                decompressor.addInput(chunk);
            } catch (DecompressionException e) {
                throw corrupt(e);
            }
        }

        @Override
        public @Nullable ByteBuf poll() {
            try {
                while (true) {
                    switch (decompressor.status()) {
                        case NEED_OUTPUT -> {
                            ByteBuf piece = decompressor.takeOutput();
                            inflated += piece.readableBytes();
                            if (inflated > maxBytes) {
                                piece.release();
                                throw new BodyTooLargeException(maxBytes);
                            }
                            if (piece.isReadable()) {
                                return piece;
                            }
                            piece.release();
                        }
                        case NEED_INPUT -> {
                            if (ended) {
                                throw new BadRequestException("request body ends before its " + coding + " stream");
                            }
                            return null;
                        }
                        case COMPLETE -> {
                            return null;
                        }
                    }
                }
            } catch (DecompressionException e) {
                throw corrupt(e);
            }
        }

        @Override
        public void end() {
            ended = true;
            if (decompressor.status() == Decompressor.Status.COMPLETE) {
                return;
            }
            try {
                decompressor.endOfInput();
            } catch (DecompressionException e) {
                throw corrupt(e);
            }
        }

        @Override
        public void close(@Nullable Throwable failure) {
            try {
                decompressor.close();
            } catch (DecompressionException ignored) {
                // Already failing or done; nothing is left to report it to.
            }
        }

        private BadRequestException corrupt(DecompressionException e) {
            return new BadRequestException("request body is not valid " + coding + ": " + e.getMessage(), e);
        }
    }
}
