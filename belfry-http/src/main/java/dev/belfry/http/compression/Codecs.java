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

    /**
     * Inflates Brotli with brotli4j's streaming decoder directly (Netty 4.2.18's {@code
     * BrotliDecompressor} calls a brotli4j constructor that the 1.18.0 release here lacks). Input is
     * copied into the decoder's buffer a piece at a time; each output piece is copied out as it is
     * pulled, so memory stays bounded by the decoder's window.
     */
    static final class BrotliDecoding extends Transform {
        private static final int INPUT_BUFFER = 16 * 1024;

        private final long maxBytes;
        private final com.aayushatharva.brotli4j.decoder.DecoderJNI.Wrapper decoder;
        private @Nullable ByteBuf pending;
        private long inflated;
        private boolean ended;

        BrotliDecoding(long maxBytes) {
            this.maxBytes = maxBytes;
            try {
                this.decoder = new com.aayushatharva.brotli4j.decoder.DecoderJNI.Wrapper(INPUT_BUFFER);
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot start a brotli decoder", e);
            }
        }

        @Override
        public void push(ByteBuf chunk) {
            if (pending != null) {
                pending.release();
            }
            pending = chunk;
        }

        @Override
        public @Nullable ByteBuf poll() {
            while (true) {
                switch (decoder.getStatus()) {
                    case OK -> decoder.push(0);
                    case NEEDS_MORE_OUTPUT -> {
                        return output();
                    }
                    case NEEDS_MORE_INPUT -> {
                        if (decoder.hasOutput()) {
                            return output();
                        }
                        ByteBuf in = pending;
                        if (in == null || !in.isReadable()) {
                            if (ended) {
                                throw new BadRequestException("request body ends before its br stream");
                            }
                            return null;
                        }
                        java.nio.ByteBuffer buffer = decoder.getInputBuffer();
                        buffer.clear();
                        int n = Math.min(in.readableBytes(), buffer.capacity());
                        buffer.limit(n);
                        in.readBytes(buffer);
                        decoder.push(n);
                    }
                    case DONE -> {
                        return decoder.hasOutput() ? output() : null;
                    }
                    case ERROR -> throw new BadRequestException("request body is not valid br");
                }
            }
        }

        private @Nullable ByteBuf output() {
            java.nio.ByteBuffer piece = decoder.pull();
            inflated += piece.remaining();
            if (inflated > maxBytes) {
                throw new BodyTooLargeException(maxBytes);
            }
            return piece.hasRemaining() ? io.netty.buffer.Unpooled.copiedBuffer(piece) : null;
        }

        @Override
        public void end() {
            ended = true;
        }

        @Override
        public void close(@Nullable Throwable failure) {
            if (pending != null) {
                pending.release();
                pending = null;
            }
            decoder.destroy();
        }
    }
}
