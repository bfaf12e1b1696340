/**
 * Backoff: how long to wait between attempts, shared by retries, reconnects and health probes.
 *
 * <p>{@link dev.belfry.backoff.Backoff#exponential} is the default everywhere: full jitter between a
 * floor and a doubling ceiling, capped. Randomness is injected so tests can fix the seed.
 */
@NullMarked
package dev.belfry.backoff;

import org.jspecify.annotations.NullMarked;
