package dev.belfry.hedge;

import dev.belfry.AbandonedException;
import dev.belfry.Checks;
import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.retry.RetryBudget;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Sends a backup copy of a request that is slower than usual, and takes whichever answer succeeds
 * first.
 *
 * <p>"Slower than usual" is a latency percentile of the successful calls of the last complete
 * window (a small histogram rotated every window); until that window holds a minimum number of
 * samples, nothing is hedged. At most a fixed number of backups are sent per request, each after
 * another percentile's wait, and each spends a token of a {@link RetryBudget}: with no token, no
 * backup (Finagle's budgeted backup requests). Only requests the idempotency predicate accepts, and
 * that can be copied, are hedged.
 *
 * <p>The first success wins and the other attempts are cancelled; a failure does not win while
 * another attempt may still succeed. If every attempt fails, the call fails with the first
 * failure. Cancelling the returned future cancels every attempt and the pending backup timer. A
 * success that loses the race is closed if it is {@link AutoCloseable}. Thread-safe.
 */
public final class Hedge<Req, Res> extends Forwarding<Req, Res, Req, Res> {
    private final HedgeSettings<Req> settings;
    private final RetryBudget budget;
    private final Clock clock;
    private final HedgeListener listener;
    private final LatencyHistogram latencies;

    Hedge(
            Service<Req, Res> inner,
            HedgeSettings<Req> settings,
            RetryBudget budget,
            Clock clock,
            HedgeListener listener) {
        super(inner);
        this.settings = Checks.notNull(settings, "settings");
        this.budget = Checks.notNull(budget, "budget");
        this.clock = Checks.notNull(clock, "clock");
        this.listener = HedgeListener.guarded(listener);
        this.latencies = new LatencyHistogram(settings.window().toNanos(), clock.nanoTime());
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        Optional<Req> spare;
        try {
            spare = spareFor(request);
        } catch (RuntimeException e) {
            return Futures.failed(e);
        }
        budget.deposit();
        long sentAt = clock.nanoTime();
        return hedge(Futures.call(inner, request), sentAt, spare);
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        Optional<Req> spare;
        CompletableFuture<Res> first;
        long sentAt = clock.nanoTime();
        try {
            spare = spareFor(request);
            first = inner.tryCall(request);
        } catch (RuntimeException e) {
            return Futures.failed(e);
        }
        if (first == null) {
            return null;
        }
        budget.deposit();
        return hedge(first, sentAt, spare);
    }

    /** A copy to send as a backup, if the request may be hedged at all. */
    private Optional<Req> spareFor(Req request) {
        if (!settings.idempotent().test(request)) {
            return Optional.empty();
        }
        return copy(request);
    }

    private Optional<Req> copy(Req request) {
        Optional<Req> copy = settings.copy().apply(request);
        return copy != null ? copy : Optional.empty();
    }

    private CompletableFuture<Res> hedge(CompletableFuture<Res> first, long sentAt, Optional<Req> spare) {
        OptionalLong threshold = spare.isPresent()
                ? latencies.percentile(settings.percentile(), settings.minSamples(), sentAt)
                : OptionalLong.empty();
        if (threshold.isEmpty()) {
            // No hedging for this request: just learn its latency.
            first.whenComplete((response, failure) -> {
                if (failure == null) {
                    latencies.record(clock.nanoTime() - sentAt, clock.nanoTime());
                }
            });
            return Futures.forward(first);
        }
        Execution execution = new Execution(spare.get(), Duration.ofNanos(Math.max(1, threshold.getAsLong())));
        execution.add(first, sentAt);
        execution.scheduleNext();
        return execution.result;
    }

    @Override
    public String toString() {
        return "Hedge[p" + settings.percentile() + ", maxExtra=" + settings.maxExtra() + ", " + budget + "]";
    }

    /** The attempts of one hedged request. */
    private final class Execution {
        final CompletableFuture<Res> result = new CompletableFuture<>();
        private final Duration delay;
        private final List<CompletableFuture<Res>> attempts = new ArrayList<>(2); // guarded by this
        private @Nullable Req spare; // guarded by this
        private int outstanding; // guarded by this
        private int extras; // guarded by this
        private @Nullable Throwable firstFailure; // guarded by this
        private Clock.@Nullable Scheduled timer; // guarded by this

        Execution(Req spare, Duration delay) {
            this.spare = spare;
            this.delay = delay;
            result.whenComplete((response, failure) -> stopAll());
        }

        /**
         * Cancels the timer and every attempt still running: losers, or all if the caller gave up.
         * A loser of a won race is abandoned (it ran at least this long: a load measure below keeps
         * that), any other attempt plainly cancelled.
         */
        private void stopAll() {
            List<CompletableFuture<Res>> running;
            Clock.Scheduled pending;
            synchronized (this) {
                running = new ArrayList<>(attempts);
                pending = timer;
                timer = null;
            }
            if (pending != null) {
                pending.cancel();
            }
            for (CompletableFuture<Res> attempt : running) {
                stop(attempt);
            }
        }

        private void stop(CompletableFuture<Res> attempt) {
            if (result.isDone() && !result.isCompletedExceptionally()) {
                attempt.completeExceptionally(
                        new AbandonedException("another copy of the request answered first (hedge)"));
            } else {
                attempt.cancel(false);
            }
        }

        void add(CompletableFuture<Res> attempt, long sentAt) {
            synchronized (this) {
                attempts.add(attempt);
                outstanding++;
            }
            attempt.whenComplete((response, failure) -> onOutcome(sentAt, response, failure));
            if (result.isDone()) {
                stop(attempt); // the race was decided (or the caller left) while sending
            }
        }

        void scheduleNext() {
            synchronized (this) {
                if (result.isDone() || spare == null || extras >= settings.maxExtra()) {
                    return;
                }
                // Under the lock: the task takes it, so it cannot run before `timer` is set.
                timer = clock.schedule(delay, this::sendBackup);
            }
        }

        private void sendBackup() {
            Req backup;
            int extra;
            synchronized (this) {
                timer = null;
                if (result.isDone() || spare == null) {
                    return;
                }
                if (!budget.tryWithdraw()) {
                    listener.onBudgetExhausted();
                    return;
                }
                backup = spare;
                spare = null;
                extra = ++extras;
            }
            Optional<Req> next;
            try {
                next = extra < settings.maxExtra() ? copy(backup) : Optional.empty();
            } catch (RuntimeException e) {
                next = Optional.empty(); // cannot copy again: this backup is the last
            }
            synchronized (this) {
                spare = next.orElse(null);
            }
            listener.onHedgeSent(extra);
            add(Futures.call(inner, backup), clock.nanoTime());
            scheduleNext();
        }

        private void onOutcome(long sentAt, @Nullable Res response, @Nullable Throwable failure) {
            if (failure != null && result.isDone() && !result.isCompletedExceptionally()) {
                // A loser cancelled because another attempt won: its latency is at least this long.
                // Leaving it out would keep only the fast winners, and the threshold would drift
                // down until every request is hedged.
                long now = clock.nanoTime();
                latencies.record(now - sentAt, now);
                return;
            }
            if (failure == null) {
                long now = clock.nanoTime();
                latencies.record(now - sentAt, now);
                if (!result.complete(response)) {
                    Futures.discard(response);
                }
                return;
            }
            Throwable last;
            synchronized (this) {
                outstanding--;
                if (firstFailure == null) {
                    firstFailure = failure;
                }
                // A failure wins only when no attempt is left that could still succeed; a backup
                // not yet sent is not worth waiting for once every attempt made has failed.
                if (outstanding > 0) {
                    return;
                }
                last = firstFailure;
            }
            Futures.completeFrom(result, null, last);
        }
    }
}
