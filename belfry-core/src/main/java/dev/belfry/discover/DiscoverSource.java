package dev.belfry.discover;

import dev.belfry.Checks;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A discovered endpoint set that code pushes changes into: a DNS resolver, a config reloader, a
 * test.
 *
 * <p>Only differences are emitted: putting an equal value again, or removing an absent key, emits
 * nothing, and {@link #replaceAll} emits just the inserts, updates and removes that turn the
 * current set into the new one. Values are compared with {@link Object#equals}.
 *
 * <p>Thread-safe. Changes from concurrent callers are ordered, and every subscriber sees the same
 * order. Each subscriber is delivered to on the calling thread unless another thread is already
 * delivering to it (then that thread delivers this change too, after the earlier ones).
 *
 * @param <K> the endpoint id
 * @param <V> the endpoint description
 */
public final class DiscoverSource<K, V> implements Discover<K, V> {
    private final Map<K, V> current = new LinkedHashMap<>();
    private final List<Delivery<K, V>> subscribers = new CopyOnWriteArrayList<>();

    private DiscoverSource() {}

    /** An empty source. */
    public static <K, V> DiscoverSource<K, V> create() {
        return new DiscoverSource<>();
    }

    /**
     * Inserts the endpoint, or updates it if {@code key} is present with a different value. Returns
     * whether anything changed.
     */
    public boolean put(K key, V value) {
        Checks.notNull(key, "key");
        Checks.notNull(value, "value");
        synchronized (this) {
            V previous = current.put(key, value);
            if (previous == null) {
                publish(new Change.Insert<>(key, value));
            } else if (!previous.equals(value)) {
                publish(new Change.Update<>(key, value));
            } else {
                return false;
            }
        }
        drainAll();
        return true;
    }

    /** Removes the endpoint with {@code key}. Returns whether it was present. */
    public boolean remove(K key) {
        Checks.notNull(key, "key");
        synchronized (this) {
            if (current.remove(key) == null) {
                return false;
            }
            publish(new Change.Remove<>(key));
        }
        drainAll();
        return true;
    }

    /**
     * Makes the set equal to {@code endpoints}, emitting only the differences: removes first, then
     * updates and inserts in the map's iteration order. Returns how many changes were emitted.
     */
    public int replaceAll(Map<? extends K, ? extends V> endpoints) {
        Checks.notNull(endpoints, "endpoints");
        List<Change<K, V>> changes = new ArrayList<>();
        synchronized (this) {
            for (K key : current.keySet()) {
                if (!endpoints.containsKey(key)) {
                    changes.add(new Change.Remove<>(key));
                }
            }
            endpoints.forEach((key, value) -> {
                Checks.notNull(key, "endpoint key");
                Checks.notNull(value, "endpoint " + key);
                V previous = current.get(key);
                if (previous == null) {
                    changes.add(new Change.Insert<>(key, value));
                } else if (!Objects.equals(previous, value)) {
                    changes.add(new Change.Update<>(key, value));
                }
            });
            for (Change<K, V> change : changes) {
                switch (change) {
                    case Change.Remove<K, V> remove -> current.remove(remove.key());
                    case Change.Insert<K, V> insert -> current.put(insert.key(), insert.value());
                    case Change.Update<K, V> update -> current.put(update.key(), update.value());
                }
                publish(change);
            }
        }
        drainAll();
        return changes.size();
    }

    /** A copy of the current set, in insertion order. */
    public synchronized Map<K, V> snapshot() {
        return new LinkedHashMap<>(current);
    }

    /** How many endpoints are in the set now. */
    public synchronized int size() {
        return current.size();
    }

    @Override
    public Subscription subscribe(Consumer<? super Change<K, V>> listener) {
        Checks.notNull(listener, "listener");
        Delivery<K, V> delivery = new Delivery<>(listener);
        synchronized (this) {
            // Under the lock, so no change can fall between the snapshot and the subscription.
            current.forEach((key, value) -> delivery.offer(new Change.Insert<>(key, value)));
            subscribers.add(delivery);
        }
        delivery.drain();
        return () -> {
            delivery.close();
            subscribers.remove(delivery);
        };
    }

    // Called with the lock held: enqueueing under the lock gives every subscriber the same order.
    private void publish(Change<K, V> change) {
        for (Delivery<K, V> delivery : subscribers) {
            delivery.offer(change);
        }
    }

    private void drainAll() {
        for (Delivery<K, V> delivery : subscribers) {
            delivery.drain();
        }
    }

    @Override
    public synchronized String toString() {
        return "DiscoverSource" + current.keySet();
    }
}
