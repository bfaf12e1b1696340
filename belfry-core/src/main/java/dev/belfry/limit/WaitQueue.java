package dev.belfry.limit;

import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * A first-in, first-out line of callers waiting for a permit or a token, from which a caller who
 * gives up leaves in constant time. Not thread-safe: its owner guards it with its lock.
 */
final class WaitQueue {
    private @Nullable Waiter head;
    private @Nullable Waiter tail;
    private int size;

    /** Adds a new caller at the back of the line and returns it. */
    Waiter add() {
        Waiter waiter = new Waiter();
        waiter.queued = true;
        waiter.prev = tail;
        if (tail == null) {
            head = waiter;
        } else {
            tail.next = waiter;
        }
        tail = waiter;
        size++;
        return waiter;
    }

    /** Removes and returns the caller at the front of the line, or null if nobody waits. */
    @Nullable
    Waiter poll() {
        Waiter first = head;
        if (first != null) {
            remove(first);
        }
        return first;
    }

    /** Takes {@code waiter} out of the line; returns false if it was no longer in it. */
    boolean remove(Waiter waiter) {
        if (!waiter.queued) {
            return false;
        }
        if (waiter.prev == null) {
            head = waiter.next;
        } else {
            waiter.prev.next = waiter.next;
        }
        if (waiter.next == null) {
            tail = waiter.prev;
        } else {
            waiter.next.prev = waiter.prev;
        }
        waiter.prev = null;
        waiter.next = null;
        waiter.queued = false;
        size--;
        return true;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** One caller in line; its future completes when it is handed what it waits for. */
    static final class Waiter {
        final CompletableFuture<Void> future = new CompletableFuture<>();
        private @Nullable Waiter prev;
        private @Nullable Waiter next;
        private boolean queued;

        private Waiter() {}
    }
}
