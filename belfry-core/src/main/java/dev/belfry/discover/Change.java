package dev.belfry.discover;

import dev.belfry.Checks;

/**
 * One change to a discovered endpoint set, keyed by the endpoint's stable id.
 *
 * <p>The key identifies an endpoint for its whole life (an address, a pod name, a config entry), so
 * consumers keep per-endpoint state (load, health, slow start) across updates.
 *
 * @param <K> the endpoint id
 * @param <V> the endpoint description (an address, a service, a config entry)
 */
public sealed interface Change<K, V> permits Change.Insert, Change.Update, Change.Remove {

    /** The id of the endpoint that changed. */
    K key();

    /** A new endpoint joined the set. */
    record Insert<K, V>(K key, V value) implements Change<K, V> {
        /** Validates that neither part is null. */
        public Insert {
            Checks.notNull(key, "key");
            Checks.notNull(value, "value");
        }
    }

    /**
     * An endpoint already in the set changed its description; consumers replace it in place, keeping
     * work already in flight on the old one.
     */
    record Update<K, V>(K key, V value) implements Change<K, V> {
        /** Validates that neither part is null. */
        public Update {
            Checks.notNull(key, "key");
            Checks.notNull(value, "value");
        }
    }

    /** An endpoint left the set. */
    record Remove<K, V>(K key) implements Change<K, V> {
        /** Validates that the key is not null. */
        public Remove {
            Checks.notNull(key, "key");
        }
    }
}
