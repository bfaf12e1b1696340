/**
 * Time for Belfry: the {@link dev.belfry.time.Clock} every layer takes to read monotonic time and
 * schedule timers.
 *
 * <p>No main code calls {@code System.nanoTime()}, {@code Thread.sleep} or a scheduler directly.
 * Production code uses {@link dev.belfry.time.Clock#system()}; tests use the test kit's {@code
 * ManualClock}, whose timers fire only when the test advances it, on the test's thread.
 */
@NullMarked
package dev.belfry.time;

import org.jspecify.annotations.NullMarked;
