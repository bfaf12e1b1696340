package dev.belfry.http.compression;

import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import dev.belfry.http.BadRequestException;
import dev.belfry.http.BodyTooLargeException;
import dev.belfry.http.internal.body.Transform;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/*
 * A file of its own on purpose: javac puts the lookup table of every enum switch in a source file
 * into one synthetic class, so a switch on brotli4j's status next to the other codecs' would make
 * gzip decoding fail with NoClassDefFoundError where brotli4j is absent.
 */
/**
 * Inflates Brotli with brotli4j's streaming decoder directly (Netty 4.2.18's {@code
 * BrotliDecompressor} calls a brotli4j constructor that the 1.18.0 release here lacks). Input is
 * copied into the decoder's buffer a piece at a time; each output piece is copied out as it is
 * pulled, so memory stays bounded by the decoder's window.
 */
final class BrotliDecoding extends Transform {
    private static final int INPUT_BUFFER = 16 * 1024;

    private final long maxBytes;
    private final DecoderJNI.Wrapper decoder;
    private @Nullable ByteBuf pending;
    private long inflated;
    private boolean ended;

    BrotliDecoding(long maxBytes) {
        this.maxBytes = maxBytes;
        try {
            this.decoder = new DecoderJNI.Wrapper(INPUT_BUFFER);
        } catch (IOException e) {
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
                    ByteBuffer buffer = decoder.getInputBuffer();
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
        ByteBuffer piece = decoder.pull();
        inflated += piece.remaining();
        if (inflated > maxBytes) {
            throw new BodyTooLargeException(maxBytes);
        }
        return piece.hasRemaining() ? Unpooled.copiedBuffer(piece) : null;
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
