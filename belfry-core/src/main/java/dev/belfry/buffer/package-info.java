/**
 * Buffer: a bounded queue in front of a service, drained in order at the inner service's pace.
 *
 * <pre>
 *   call ──▶ queue empty and inner admits now? ──yes──▶ inner
 *              │ no
 *              ▼
 *            room in the queue? ──no──▶ OverloadedException (tryCall: null)
 *              │ yes
 *              ▼
 *   [ r5 r4 r3 r2 r1 ] ──drain: tryCall(head)──▶ inner
 *                           │ refused
 *                           ▼
 *                     park on inner.whenReady(), resume when it completes
 * </pre>
 *
 * <p>A {@link dev.belfry.buffer.Buffer} turns "the inner service is busy" into "wait in a queue of
 * known size", so callers get backpressure up to a bound and a fast {@link
 * dev.belfry.OverloadedException} past it. It is Tower's {@code Buffer} adapted to Belfry's
 * contract: there is no worker task and no channel; whichever thread finds work drains the queue,
 * one drainer at a time, and a busy inner service parks the drain on its {@code whenReady}.
 *
 * <p><b>Layer order.</b> Place the buffer directly outside the layer that limits capacity (a
 * concurrency or rate limit): the limit refuses, the buffer queues. A timeout outside the buffer
 * counts time spent queued; a load shedder outside it rejects only when the queue is full, since
 * the buffer is {@code READY} while it has room. A retry outside may repeat an {@code
 * OverloadedException}: the request was never sent.
 *
 * <p><b>Errors.</b> {@link dev.belfry.OverloadedException} when the queue is full (naming the
 * capacity); {@link dev.belfry.ServiceClosedException} for queued calls when the buffer is closed
 * or its inner service closes, saying the request was not sent. Both are retry-safe. Inner failures
 * pass through unchanged.
 *
 * <p><b>Cancellation.</b> Cancelling a queued call removes it; it never reaches the inner service.
 * Cancelling a call already handed on cancels the inner call.
 *
 * <p><b>Thread-safety.</b> Thread-safe; no lock is held while calling the inner service or
 * completing a caller's future, so callbacks may re-enter the buffer.
 */
@NullMarked
package dev.belfry.buffer;

import org.jspecify.annotations.NullMarked;
