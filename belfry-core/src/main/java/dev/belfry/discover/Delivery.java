package dev.belfry.discover;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Delivers changes to one listener in order and never concurrently: whichever thread finds the
 * listener idle drains the queue, others only enqueue.
 */
final class Delivery<K, V> {
    private static final System.Logger LOG = System.getLogger(Discover.class.getName());

    private final Consumer<? super Change<K, V>> listener;
    private final ConcurrentLinkedQueue<Change<K, V>> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger work = new AtomicInteger();
    private volatile boolean closed;

    Delivery(Consumer<? super Change<K, V>> listener) {
        this.listener = listener;
    }

    void offer(Change<K, V> change) {
        queue.add(change);
    }

    void drain() {
        if (work.getAndIncrement() != 0) {
            // Another thread is draining and will see what we enqueued before it stops.
            return;
        }
        int missed = 1;
        while (true) {
            Change<K, V> change;
            while ((change = queue.poll()) != null) {
                if (closed) {
                    queue.clear();
                    break;
                }
                try {
                    listener.accept(change);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "discovery listener failed on " + change, e);
                }
            }
            missed = work.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    void close() {
        closed = true;
    }
}
