package dev.belfry.http;

import dev.belfry.Checks;

/**
 * A typed key for what layers learn about a request (the route the router matched, an
 * authenticated principal), carried on {@link HttpRequest#attribute} rather than in headers.
 *
 * <p>Keys compare by identity: create each once, as a constant.
 *
 * @param <T> the type of the value
 */
public final class RequestAttribute<T> {
    private final String name;
    private final Class<T> type;

    private RequestAttribute(String name, Class<T> type) {
        this.name = name;
        this.type = type;
    }

    /** A new key; {@code name} is for messages only. */
    public static <T> RequestAttribute<T> of(String name, Class<T> type) {
        return new RequestAttribute<>(Checks.notNull(name, "name"), Checks.notNull(type, "type"));
    }

    /** The name given at creation. */
    public String name() {
        return name;
    }

    T cast(Object value) {
        return type.cast(value);
    }

    @Override
    public String toString() {
        return name + " (" + type.getSimpleName() + ")";
    }
}
