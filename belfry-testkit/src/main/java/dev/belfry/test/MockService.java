package dev.belfry.test;

import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * A service whose every step the test controls, in the spirit of tower-test's mock.
 *
 * <p>Through its {@link Handle} the test decides how many calls may be admitted ({@link
 * Handle#allow}), takes each admitted request ({@link Handle#next}) and answers, fails or holds it.
 * A call made when no admission is left waits, as a busy service's would, and is admitted in order
 * when the test allows more. Admission is unlimited until the test first calls {@code allow}.
 *
 * <p>{@link #verify} (run after each test by {@link VerifyAfterEach}) fails if an admitted request
 * was never taken or never answered, or a call is still waiting. Thread-safe.
 */
public final class MockService<Req, Res> implements Service<Req, Res>, Verifiable {
    private final Deque<Pending<Req, Res>> received = new ArrayDeque<>();
    private final List<Pending<Req, Res>> taken = new ArrayList<>();
    private final Deque<Pending<Req, Res>> waiting = new ArrayDeque<>();
    private final Handle handle = new Handle();
    private long allowance = Long.MAX_VALUE;
    private boolean closed;
    private int closeCount;
    private CompletableFuture<Void> readySignal = new CompletableFuture<>();

    private MockService() {}

    /** A new mock with unlimited admission. */
    public static <Req, Res> MockService<Req, Res> create() {
        return new MockService<>();
    }

    /** The test's side of this mock. */
    public Handle handle() {
        return handle;
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        Pending<Req, Res> pending = new Pending<>(request);
        synchronized (this) {
            if (closed) {
                return CompletableFuture.failedFuture(new ServiceClosedException("mock service is closed"));
            }
            if (allowance > 0 && waiting.isEmpty()) {
                admit(pending);
            } else {
                waiting.add(pending);
                pending.future.whenComplete((r, f) -> {
                    synchronized (this) {
                        waiting.remove(pending);
                    }
                });
            }
        }
        return pending.future;
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        synchronized (this) {
            if (closed || allowance == 0 || !waiting.isEmpty()) {
                return null;
            }
            Pending<Req, Res> pending = new Pending<>(request);
            admit(pending);
            return pending.future;
        }
    }

    private void admit(Pending<Req, Res> pending) {
        if (allowance != Long.MAX_VALUE) {
            allowance--;
        }
        received.add(pending);
    }

    @Override
    public synchronized Readiness readiness() {
        if (closed) {
            return Readiness.CLOSED;
        }
        return allowance > 0 && waiting.isEmpty() ? Readiness.READY : Readiness.BUSY;
    }

    @Override
    public synchronized CompletionStage<Void> whenReady() {
        if (readiness() != Readiness.BUSY) {
            return CompletableFuture.completedFuture(null);
        }
        return readySignal.copy();
    }

    @Override
    public void close() {
        List<Pending<Req, Res>> abandoned;
        CompletableFuture<Void> signal;
        synchronized (this) {
            closeCount++;
            if (closed) {
                return;
            }
            closed = true;
            abandoned = new ArrayList<>(waiting);
            waiting.clear();
            signal = readySignal;
        }
        for (Pending<Req, Res> pending : abandoned) {
            pending.future.completeExceptionally(new ServiceClosedException("mock service is closed"));
        }
        signal.complete(null);
    }

    @Override
    public void verify() {
        List<String> problems = new ArrayList<>();
        synchronized (this) {
            for (Pending<Req, Res> pending : received) {
                if (!pending.future.isDone()) {
                    problems.add("request " + pending.request + " was admitted but never taken or answered");
                }
            }
            for (Pending<Req, Res> pending : taken) {
                if (!pending.future.isDone()) {
                    problems.add("request " + pending.request + " was taken but never answered");
                }
            }
            for (Pending<Req, Res> pending : waiting) {
                problems.add("call " + pending.request + " is still waiting for admission");
            }
        }
        if (!problems.isEmpty()) {
            throw new AssertionError(String.join("; ", problems));
        }
    }

    @Override
    public synchronized String toString() {
        return "MockService[received=" + received.size() + ", taken=" + taken.size() + ", waiting=" + waiting.size()
                + (closed ? ", closed" : "") + "]";
    }

    /** The test's controls over a {@link MockService}. */
    public final class Handle {
        private Handle() {}

        /**
         * Sets how many more calls may be admitted (replacing any previous allowance); waiting calls
         * are admitted first, in order.
         */
        public void allow(long calls) {
            if (calls < 0) {
                throw new IllegalArgumentException("calls must not be negative, was " + calls);
            }
            CompletableFuture<Void> signal = null;
            synchronized (MockService.this) {
                allowance = calls;
                while (allowance > 0 && !waiting.isEmpty()) {
                    admit(waiting.poll());
                }
                if (allowance > 0 || closed) {
                    signal = readySignal;
                    readySignal = new CompletableFuture<>();
                }
            }
            if (signal != null) {
                signal.complete(null);
            }
        }

        /** Admits every call from now on. */
        public void allowUnlimited() {
            allow(Long.MAX_VALUE);
        }

        /** Takes the oldest admitted request not yet taken; fails the test if there is none. */
        public Pending<Req, Res> next() {
            synchronized (MockService.this) {
                Pending<Req, Res> pending = received.poll();
                if (pending == null) {
                    throw new AssertionError("expected a request, but none was admitted (" + MockService.this + ")");
                }
                taken.add(pending);
                return pending;
            }
        }

        /** Takes the next request and answers it with {@code response}; returns the request. */
        public Req respondNext(Res response) {
            Pending<Req, Res> pending = next();
            pending.respond(response);
            return pending.request();
        }

        /** Fails the test if an admitted request has not been taken yet. */
        public void assertNoMoreRequests() {
            synchronized (MockService.this) {
                if (!received.isEmpty()) {
                    throw new AssertionError("expected no more requests, but received " + received.peek().request + " ("
                            + received.size() + " untaken)");
                }
            }
        }

        /** How many requests were admitted in all. */
        public int admitted() {
            synchronized (MockService.this) {
                return received.size() + taken.size();
            }
        }

        /** How many calls are waiting for admission. */
        public int waitingCalls() {
            synchronized (MockService.this) {
                return waiting.size();
            }
        }

        /** How many times {@link MockService#close} was called. */
        public int closeCount() {
            synchronized (MockService.this) {
                return closeCount;
            }
        }

        /** Forgets answered requests, so long tests do not accumulate them. */
        public void forgetAnswered() {
            synchronized (MockService.this) {
                taken.removeIf(p -> p.future.isDone());
            }
        }
    }

    /** One admitted request, held until the test answers it. */
    public static final class Pending<Req, Res> {
        private final Req request;
        private final CompletableFuture<Res> future = new CompletableFuture<>();

        Pending(Req request) {
            this.request = request;
        }

        /** The request as the mock received it. */
        public Req request() {
            return request;
        }

        /** Completes the call with {@code response}. Fails the test if it was already completed. */
        public void respond(Res response) {
            if (!future.complete(response)) {
                throw new AssertionError("request " + request + " was already completed: " + future);
            }
        }

        /** Fails the call with {@code failure}. Fails the test if it was already completed. */
        public void fail(Throwable failure) {
            if (!future.completeExceptionally(failure)) {
                throw new AssertionError("request " + request + " was already completed: " + future);
            }
        }

        /** Whether the caller cancelled this call (cancellation reached the mock). */
        public boolean isCancelled() {
            return future.isCancelled();
        }

        /**
         * Whether the caller abandoned this call: cancelled it with an {@link
         * dev.belfry.AbandonedException} (a hedge's loser), which also counts as cancelled.
         */
        public boolean isAbandoned() {
            return future.handle((value, failure) -> failure).getNow(null) instanceof dev.belfry.AbandonedException;
        }

        /** Whether the call was answered, failed or cancelled. */
        public boolean isDone() {
            return future.isDone();
        }

        @Override
        public String toString() {
            return "Pending[" + request + ", " + future + "]";
        }
    }
}
