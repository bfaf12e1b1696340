package dev.belfry.channel;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs tasks one at a time, in submission order, on whichever thread finds it idle: the pool's
 * state lives on it, so connector results, probe results, timers and resolutions are applied one
 * after another without a lock, and on a manual clock everything happens on the test's thread.
 */
final class SerialExecutor implements Executor {
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean running = new AtomicBoolean();
    private final PoolLog log;

    SerialExecutor(PoolLog log) {
        this.log = log;
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        drain();
    }

    private void drain() {
        // Whoever wins the flag runs everything queued; a task queued by another thread after the
        // loop ends is picked up by the re-check, so none is stranded.
        while (!tasks.isEmpty() && running.compareAndSet(false, true)) {
            try {
                Runnable next;
                while ((next = tasks.poll()) != null) {
                    try {
                        next.run();
                    } catch (RuntimeException e) {
                        log.warn("pool task failed: " + e);
                    }
                }
            } finally {
                running.set(false);
            }
        }
    }
}
