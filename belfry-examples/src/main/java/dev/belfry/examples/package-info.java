/**
 * Belfry's examples: {@link dev.belfry.examples.users} (the reference service), {@link
 * dev.belfry.examples.client} (its client over two replicas), {@link
 * dev.belfry.examples.degradation} (the outage scenario and the coalescing figure), and {@link
 * dev.belfry.examples.Launcher}, the entry point of {@code bin/belfry-example}.
 */
@NullMarked
package dev.belfry.examples;

import org.jspecify.annotations.NullMarked;
