package dev.belfry.channel;

import dev.belfry.Futures;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * A connector whose connections, probes and calls the test completes by hand: each connect is a
 * pending {@link Attempt}; each member answers requests with "address:request" unless told to hold
 * them, and each of its health probes is a pending future.
 */
final class FakeConnector implements MemberConnector<String, String, String> {
    final List<Attempt> attempts = new ArrayList<>();

    @Override
    public synchronized CompletionStage<FakeMember> connect(String address) {
        Attempt attempt = new Attempt(address);
        attempts.add(attempt);
        return attempt.future;
    }

    synchronized Attempt attempt(int index) {
        return attempts.get(index);
    }

    synchronized int count() {
        return attempts.size();
    }

    synchronized List<String> addresses() {
        return attempts.stream().map(a -> a.address).toList();
    }

    /** Every member that connected and has not been closed. */
    synchronized List<FakeMember> open() {
        return attempts.stream()
                .map(a -> a.member)
                .filter(m -> m != null && !m.isClosed())
                .toList();
    }

    static final class Attempt {
        final String address;
        final CompletableFuture<FakeMember> future = new CompletableFuture<>();

        @Nullable
        FakeMember member;

        Attempt(String address) {
            this.address = address;
        }

        /** Completes the connection; returns the member. */
        FakeMember connect() {
            FakeMember made = new FakeMember(address);
            member = made;
            future.complete(made);
            return made;
        }

        void fail(String message) {
            future.completeExceptionally(new java.io.IOException(message));
        }

        FakeMember member() {
            FakeMember made = member;
            if (made == null) {
                throw new AssertionError("attempt to " + address + " has not connected");
            }
            return made;
        }
    }

    static final class FakeMember implements PoolMember<String, String> {
        final String address;
        final List<CompletableFuture<Void>> probes = new ArrayList<>();
        final List<CompletableFuture<String>> held = new ArrayList<>();
        final CompletableFuture<Void> gone = new CompletableFuture<>();
        int calls;
        boolean hold;
        int closes;

        FakeMember(String address) {
            this.address = address;
        }

        @Override
        public synchronized CompletableFuture<String> call(String request) {
            calls++;
            if (hold) {
                CompletableFuture<String> pending = new CompletableFuture<>();
                held.add(pending);
                return pending;
            }
            return CompletableFuture.completedFuture(address + ":" + request);
        }

        @Override
        public synchronized CompletionStage<?> checkHealth() {
            CompletableFuture<Void> probe = new CompletableFuture<>();
            probes.add(probe);
            return probe;
        }

        @Override
        public CompletionStage<?> closed() {
            return gone;
        }

        @Override
        public synchronized void close() {
            closes++;
        }

        synchronized boolean isClosed() {
            return closes > 0;
        }

        synchronized int probeCount() {
            return probes.size();
        }

        /** The latest probe, which must still be pending. */
        synchronized CompletableFuture<Void> pendingProbe() {
            if (probes.isEmpty()) {
                throw new AssertionError(address + " was never probed");
            }
            CompletableFuture<Void> last = probes.get(probes.size() - 1);
            if (last.isDone()) {
                throw new AssertionError(address + " has no probe pending");
            }
            return last;
        }

        void pass() {
            pendingProbe().complete(null);
        }

        void failProbe(String why) {
            pendingProbe().completeExceptionally(new IllegalStateException(why));
        }

        synchronized void releaseHeld() {
            for (CompletableFuture<String> pending : held) {
                Futures.completeFrom(pending, address + ":late", null);
            }
            held.clear();
        }

        @Override
        public String toString() {
            return "FakeMember[" + address + "]";
        }
    }
}
