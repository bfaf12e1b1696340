package dev.belfry.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Runs tasks one at a time, in submission order, on whichever thread finds it idle (grpc-java's
 * synchronization context): the executor of a balancer's or a pool's state, with no thread of its
 * own, so changes are applied as they happen, traffic or not, and on a manual clock everything
 * happens on the test's thread.
 *
 * <p>A task that throws, even an {@code Error} from user code, is handed to the failure handler and
 * the executor goes on: a task that failed must never leave the others queued for ever.
 */
public final class SerialExecutor implements Executor {
    private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger work = new AtomicInteger();
    private final Consumer<Throwable> onFailure;

    /** An executor that hands what a task throws to {@code onFailure} (which must not throw). */
    public SerialExecutor(Consumer<Throwable> onFailure) {
        this.onFailure = onFailure;
    }

    @Override
    public void execute(Runnable task) {
        queue.add(task);
        if (work.getAndIncrement() != 0) {
            // The draining thread will run it after the tasks before it.
            return;
        }
        int missed = 1;
        while (true) {
            Runnable next;
            while ((next = queue.poll()) != null) {
                try {
                    next.run();
                } catch (Throwable e) {
                    onFailure.accept(e);
                }
            }
            missed = work.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }
}
