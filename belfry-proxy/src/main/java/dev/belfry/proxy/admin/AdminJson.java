package dev.belfry.proxy.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.belfry.http.Json;
import org.jspecify.annotations.Nullable;

/**
 * The admin server's JSON: belfry-http's Jackson mapper with snake_case property names, and strings
 * that stay inert if pasted into HTML or a script.
 *
 * <p>Besides what JSON requires (quotes, backslashes, control characters), strings escape {@code <},
 * {@code >}, {@code &} and U+2028/U+2029; the output is UTF-8, and a lone surrogate (which UTF-8
 * cannot encode) is written as a {@code \\u} escape. Thread-safe.
 */
final class AdminJson {
    private static final ObjectMapper MAPPER = mapper();

    private AdminJson() {}

    private static ObjectMapper mapper() {
        ObjectMapper mapper = Json.mapper().copy();
        mapper.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
        mapper.getFactory().setCharacterEscapes(new InertEscapes());
        // A character outside the BMP as its four UTF-8 bytes, not as two escaped surrogates.
        mapper.getFactory().enable(JsonGenerator.Feature.COMBINE_UNICODE_SURROGATES_IN_UTF8);
        return mapper;
    }

    /** {@code value} (a record of the admin's documents, or a plain value) as UTF-8 JSON. */
    static byte[] write(@Nullable Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            // The admin's records hold strings, numbers, booleans and lists only.
            throw new IllegalStateException("cannot write " + value + " as JSON", e);
        }
    }

    /** The escapes of {@link AdminJson}: JSON's own, plus markup and line separators. */
    private static final class InertEscapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private static final SerializedString LINE_SEPARATOR = new SerializedString("\\u2028");
        private static final SerializedString PARAGRAPH_SEPARATOR = new SerializedString("\\u2029");

        private final int[] escapes;

        InertEscapes() {
            int[] standard = CharacterEscapes.standardAsciiEscapesForJSON();
            standard['<'] = CharacterEscapes.ESCAPE_STANDARD;
            standard['>'] = CharacterEscapes.ESCAPE_STANDARD;
            standard['&'] = CharacterEscapes.ESCAPE_STANDARD;
            this.escapes = standard;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return escapes;
        }

        @Override
        public @Nullable SerializableString getEscapeSequence(int ch) {
            return switch (ch) {
                case '\u2028' -> LINE_SEPARATOR;
                case '\u2029' -> PARAGRAPH_SEPARATOR;
                default -> null;
            };
        }
    }
}
