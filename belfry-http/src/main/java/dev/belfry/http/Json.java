package dev.belfry.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;

/**
 * The one Jackson {@link ObjectMapper} Belfry's HTTP code reads and writes JSON with.
 *
 * <p>It fails on unknown properties (a misspelt field is a 400, not a silent default) and writes
 * no pretty-printing. Thread-safe.
 */
public final class Json {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {}

    /** The shared mapper; configure a copy ({@code mapper().copy()}) rather than this one. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /**
     * Reads {@code bytes} as a {@code type}, failing with {@link BadRequestException} whose message
     * says what was wrong and where (line and column), meant for the client.
     */
    public static <T> T read(byte[] bytes, Class<T> type) {
        try {
            return MAPPER.readValue(bytes, type);
        } catch (JsonProcessingException e) {
            var where = e.getLocation();
            String at = where == null ? "" : " at line " + where.getLineNr() + ", column " + where.getColumnNr();
            throw new BadRequestException("malformed JSON body" + at + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new BadRequestException("unreadable JSON body: " + e.getMessage(), e);
        }
    }
}
