package dev.belfry.balance;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs tasks one at a time, in submission order, on whichever thread finds it idle (grpc-java's
 * synchronization context): the balancer's own executor for state changes, with no thread of its
 * own, so discovery and readiness changes are applied as they happen, traffic or not.
 */
final class Serial implements Executor {
    private static final System.Logger LOG = System.getLogger(Balancer.class.getName());

    private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger work = new AtomicInteger();

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
                    // An Error from user code (a connect function, a listener) must not leave the
                    // counter raised: every later task would queue behind it and never run.
                    LOG.log(System.Logger.Level.ERROR, "balancer task failed; the balancer goes on", e);
                }
            }
            missed = work.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }
}
