package dev.belfry.http.client;

/** The protocol an {@link HttpClient} speaks to its origin over cleartext TCP. */
public enum Protocol {
    /** HTTP/1.1 with keep-alive: one exchange at a time per connection, connections pooled. */
    HTTP_1_1,
    /**
     * HTTP/2 over cleartext by prior knowledge (h2c, no Upgrade): many exchanges per connection, up
     * to the server's {@code SETTINGS_MAX_CONCURRENT_STREAMS}.
     */
    H2C
}
