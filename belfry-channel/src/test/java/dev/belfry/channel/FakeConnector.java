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
 * them, and each of its health probes is a pending future. Public for the tests of the pool's
 * sub-packages (DNS, growth, diagnostics).
 */
public final class FakeConnector implements MemberConnector<String, String, String> {
    public final List<Attempt> attempts = new ArrayList<>();

    @Override
    public synchronized CompletionStage<FakeMember> connect(String address) {
        Attempt attempt = new Attempt(address);
        attempts.add(attempt);
        return attempt.future;
    }

    public synchronized Attempt attempt(int index) {
        return attempts.get(index);
    }

    public synchronized int count() {
        return attempts.size();
    }

    public synchronized List<String> addresses() {
        return attempts.stream().map(a -> a.address).toList();
    }

    /** Every member that connected and has not been closed. */
    public synchronized List<FakeMember> open() {
        return attempts.stream()
                .map(a -> a.member)
                .filter(m -> m != null && !m.isClosed())
                .toList();
    }

    public static final class Attempt {
        public final String address;
        public final CompletableFuture<FakeMember> future = new CompletableFuture<>();

        @Nullable
        FakeMember member;

        Attempt(String address) {
            this.address = address;
        }

        /** Completes the connection; returns the member. */
        public FakeMember connect() {
            FakeMember made = new FakeMember(address);
            member = made;
            future.complete(made);
            return made;
        }

        public void fail(String message) {
            future.completeExceptionally(new java.io.IOException(message));
        }

        public FakeMember member() {
            FakeMember made = member;
            if (made == null) {
                throw new AssertionError("attempt to " + address + " has not connected");
            }
            return made;
        }
    }

    public static final class FakeMember implements PoolMember<String, String> {
        public final String address;
        public final List<CompletableFuture<Void>> probes = new ArrayList<>();
        public final List<CompletableFuture<String>> held = new ArrayList<>();
        public final CompletableFuture<Void> gone = new CompletableFuture<>();
        public int calls;
        public boolean hold;
        /** When set, every call fails at once with this message. */
        public volatile @Nullable String failWith;
        /** When set, every call is answered at once with this instead of address:request. */
        public volatile @Nullable String answer;

        public int closes;

        FakeMember(String address) {
            this.address = address;
        }

        @Override
        public synchronized CompletableFuture<String> call(String request) {
            calls++;
            String failure = failWith;
            if (failure != null) {
                return CompletableFuture.failedFuture(new IllegalStateException(failure));
            }
            String fixed = answer;
            if (fixed != null) {
                return CompletableFuture.completedFuture(fixed);
            }
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

        public synchronized boolean isClosed() {
            return closes > 0;
        }

        public synchronized int probeCount() {
            return probes.size();
        }

        /** The latest probe, which must still be pending. */
        public synchronized CompletableFuture<Void> pendingProbe() {
            if (probes.isEmpty()) {
                throw new AssertionError(address + " was never probed");
            }
            CompletableFuture<Void> last = probes.get(probes.size() - 1);
            if (last.isDone()) {
                throw new AssertionError(address + " has no probe pending");
            }
            return last;
        }

        public void pass() {
            pendingProbe().complete(null);
        }

        public void failProbe(String why) {
            pendingProbe().completeExceptionally(new IllegalStateException(why));
        }

        public synchronized void releaseHeld() {
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
