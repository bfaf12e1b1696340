package dev.belfry.discover;

import java.util.Map;
import java.util.function.Consumer;

/** A fixed endpoint set, delivered as inserts to each subscriber. */
final class StaticDiscover<K, V> implements Discover<K, V> {
    private final Map<K, V> endpoints;

    StaticDiscover(Map<K, V> endpoints) {
        // Already a private copy in iteration order; never mutated.
        this.endpoints = endpoints;
    }

    @Override
    public Subscription subscribe(Consumer<? super Change<K, V>> listener) {
        Delivery<K, V> delivery = new Delivery<>(listener);
        endpoints.forEach((key, value) -> delivery.offer(new Change.Insert<>(key, value)));
        delivery.drain();
        return delivery::close;
    }

    @Override
    public String toString() {
        return "Discover.of" + endpoints.keySet();
    }
}
