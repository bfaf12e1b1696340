package dev.belfry.bench.http;

import java.nio.charset.StandardCharsets;

/** What every server answers, so each does the same work. */
final class Hello {
    /** The body of {@code GET /text}. */
    static final String TEXT = "Hello, World!";

    static final byte[] TEXT_BYTES = TEXT.getBytes(StandardCharsets.UTF_8);

    /** The object every server serializes to JSON, anew for each {@code GET /json}. */
    record Message(String message) {}

    private Hello() {}
}
