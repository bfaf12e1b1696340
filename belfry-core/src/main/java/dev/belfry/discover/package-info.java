/**
 * Discovery: where the endpoints of a balancer come from, as a stream of changes keyed by stable
 * endpoint ids.
 *
 * <p>A {@link dev.belfry.discover.Discover} delivers {@link dev.belfry.discover.Change}s (insert,
 * update, remove). A new subscriber first gets the current set as inserts, then every change, in
 * order and never concurrently. The key is the endpoint's identity for its whole life, so a
 * balancer keeps load, health and slow-start state per endpoint across updates (tower#856), and an
 * update replaces an endpoint in place without dropping work already in flight on it.
 *
 * <p>Sources: {@link dev.belfry.discover.Discover#of} (a fixed set; empty sets are rejected) and
 * {@link dev.belfry.discover.DiscoverSource} (a set that code pushes into with {@code put}, {@code
 * remove} and {@code replaceAll}, which emits only the differences). A DNS resolver feeds a {@code
 * DiscoverSource} with {@code replaceAll} after each answer. {@link
 * dev.belfry.discover.Discover#map} turns descriptions into services per subscriber.
 *
 * <p><b>Errors.</b> None at run time: a listener that throws is logged and keeps receiving changes.
 * Null keys or values and empty fixed sets fail at once, naming the argument.
 *
 * <p><b>Thread-safety.</b> Sources are thread-safe; listeners are called serially per
 * subscription, on whichever thread made or is delivering the change.
 */
@NullMarked
package dev.belfry.discover;

import org.jspecify.annotations.NullMarked;
