package dev.belfry.http.server;

import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/**
 * The text of a {@code content-length} value, kept for the small lengths most responses have, so
 * writing one costs no new string. Thread-safe: an entry is an immutable string, and two threads
 * that fill the same entry at once store equal values.
 */
final class ContentLengths {
    private static final int CACHED = 4096;
    private static final @Nullable AsciiString[] SMALL = new AsciiString[CACHED];

    private ContentLengths() {}

    static AsciiString of(long length) {
        if (length >= 0 && length < CACHED) {
            AsciiString text = SMALL[(int) length];
            if (text == null) {
                text = AsciiString.of(Long.toString(length));
                SMALL[(int) length] = text;
            }
            return text;
        }
        return AsciiString.of(Long.toString(length));
    }
}
