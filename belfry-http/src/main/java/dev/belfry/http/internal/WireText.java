package dev.belfry.http.internal;

import dev.belfry.http.HttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.util.AsciiString;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/**
 * Netty's {@link AsciiString} constants for the header names and values that messages carry most,
 * looked up from Belfry's {@code String}s when a message is handed to Netty's encoders.
 *
 * <p>Both encoders run faster on an {@code AsciiString} than on a {@code String} of the same text:
 * HPACK finds a field in its tables by hash and comparison, which for two {@code AsciiString}s
 * compares byte arrays and otherwise goes character by character through {@code CharSequence};
 * the HTTP/1.1 encoder copies an {@code AsciiString}'s bytes at once. Every header name Netty
 * defines is here (they are lower case, as Belfry stores names), and the content types Belfry's
 * responses set. Immutable after class initialisation; safe from any thread.
 */
public final class WireText {
    private static final Map<String, AsciiString> KNOWN = known();

    private WireText() {}

    /** The constant for {@code text} if there is one, else {@code text} itself. */
    public static CharSequence of(String text) {
        AsciiString constant = KNOWN.get(text);
        return constant != null ? constant : text;
    }

    private static Map<String, AsciiString> known() {
        Map<String, AsciiString> known = new HashMap<>();
        for (Class<?> holder : new Class<?>[] {HttpHeaderNames.class, HttpHeaderValues.class}) {
            for (Field field : holder.getFields()) {
                if (Modifier.isStatic(field.getModifiers()) && field.getType() == AsciiString.class) {
                    try {
                        AsciiString value = (AsciiString) field.get(null);
                        known.put(value.toString(), value);
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException("cannot read " + field, e);
                    }
                }
            }
        }
        known.put(HttpResponse.TEXT_UTF8, AsciiString.cached(HttpResponse.TEXT_UTF8));
        known.put(HttpResponse.JSON, AsciiString.cached(HttpResponse.JSON));
        return Map.copyOf(known);
    }
}
