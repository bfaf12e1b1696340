package dev.belfry.discover;

import dev.belfry.Checks;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * A source of endpoint changes (insert, update, remove) keyed by a stable endpoint id.
 *
 * <p>A new subscriber first receives the current set as {@link Change.Insert}s, then every later
 * change, in order and never concurrently (one change is fully handled before the next is
 * delivered). Delivery happens on the thread that made the change or subscribed, or on a thread
 * already delivering to that subscriber; listeners must be quick and must not block.
 *
 * <p>Implementations: {@link #of} for a fixed set, {@link DiscoverSource} for a set that code (a DNS
 * resolver, a config reloader) pushes changes into.
 *
 * @param <K> the endpoint id
 * @param <V> the endpoint description
 */
@FunctionalInterface
public interface Discover<K, V> {

    /**
     * Delivers the current set as inserts, then every change, to {@code listener} until the returned
     * subscription is closed.
     *
     * <p>A listener that throws is logged and keeps receiving later changes.
     */
    Subscription subscribe(Consumer<? super Change<K, V>> listener);

    /**
     * Returns a source whose values are {@code mapper} applied to this source's values, for each
     * subscriber separately: a balancer that makes one connection per address maps addresses to
     * services here.
     */
    default <W> Discover<K, W> map(BiFunction<? super K, ? super V, ? extends W> mapper) {
        Checks.notNull(mapper, "mapper");
        Discover<K, V> source = this;
        return listener -> source.subscribe(change -> listener.accept(
                switch (change) {
                    case Change.Insert<K, V> insert ->
                        new Change.Insert<>(
                                insert.key(),
                                Checks.notNull(mapper.apply(insert.key(), insert.value()), "mapped value"));
                    case Change.Update<K, V> update ->
                        new Change.Update<>(
                                update.key(),
                                Checks.notNull(mapper.apply(update.key(), update.value()), "mapped value"));
                    case Change.Remove<K, V> remove -> new Change.Remove<>(remove.key());
                }));
    }

    /**
     * A fixed set of endpoints: each subscriber receives them as inserts, in the map's iteration
     * order, and nothing after.
     *
     * @throws IllegalArgumentException if {@code endpoints} is empty: a fixed source with no endpoint
     *     could never serve a request
     */
    static <K, V> Discover<K, V> of(Map<? extends K, ? extends V> endpoints) {
        Checks.notNull(endpoints, "endpoints");
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("endpoints must not be empty");
        }
        Map<K, V> copy = new LinkedHashMap<>();
        endpoints.forEach((key, value) ->
                copy.put(Checks.notNull(key, "endpoint key"), Checks.notNull(value, "endpoint " + key)));
        return new StaticDiscover<>(copy);
    }

    /** A subscription to a {@link Discover}; closing it stops delivery. */
    @FunctionalInterface
    interface Subscription extends AutoCloseable {
        /** Stops delivery to the listener; changes already being delivered may still arrive. Idempotent. */
        @Override
        void close();
    }
}
