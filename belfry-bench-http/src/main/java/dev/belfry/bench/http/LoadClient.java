package dev.belfry.bench.http;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Drives one HTTP client with a fixed number of requests in flight and prints what it cost.
 *
 * <pre>
 * java ... dev.belfry.bench.http.LoadClient belfry|armeria|jdk|okhttp|vertx h1|h2c URL IN_FLIGHT WARMUP_S DURATION_S
 * </pre>
 *
 * <p>Each of IN_FLIGHT loops sends {@code GET URL}, reads the whole body, and sends the next as soon
 * as it has. After WARMUP_S seconds it measures for DURATION_S seconds and prints one line:
 *
 * <pre>
 * RESULT impl protocol requests requests_per_s cpu_us_per_request allocated_bytes_per_request errors
 * </pre>
 *
 * <p>CPU is this JVM's process CPU time (user + system, every thread: the client's event loops and
 * the loops themselves) over the window; allocation is the bytes every thread allocated over it.
 * Each client is set up the way its documentation suggests for this load, with one I/O thread where
 * it lets you choose: HTTP/1.1 with up to IN_FLIGHT keep-alive connections, h2c on one connection
 * by prior knowledge (the JDK's client cannot: it upgrades from HTTP/1.1).
 */
public final class LoadClient {
    private LoadClient() {}

    /** One client under test. */
    interface Caller extends AutoCloseable {
        /** Sends one GET, reads the body whole, then calls {@code done} with null or the failure. */
        void get(Consumer<@Nullable Throwable> done);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println(
                    "usage: LoadClient belfry|armeria|jdk|okhttp|vertx h1|h2c URL IN_FLIGHT WARMUP_S DURATION_S");
            System.exit(2);
        }
        String impl = args[0].toLowerCase(Locale.ROOT);
        boolean h2 = switch (args[1]) {
            case "h1" -> false;
            case "h2c" -> true;
            default -> throw new IllegalArgumentException("protocol must be h1 or h2c, was " + args[1]);
        };
        URI url = URI.create(args[2]);
        int inFlight = Integer.parseInt(args[3]);
        long warmup = Long.parseLong(args[4]);
        long duration = Long.parseLong(args[5]);
        Caller caller = switch (impl) {
            case "belfry" -> Callers.belfry(url, h2, inFlight);
            case "armeria" -> Callers.armeria(url, h2);
            case "jdk" -> Callers.jdk(url, h2);
            case "okhttp" -> Callers.okhttp(url, h2, inFlight);
            case "vertx" -> Callers.vertx(url, h2, inFlight);
            default -> throw new IllegalArgumentException("unknown client " + impl);
        };

        var load = new Load(caller);
        for (int i = 0; i < inFlight; i++) {
            load.next();
        }
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        TimeUnit.SECONDS.sleep(warmup);
        long done0 = load.done.sum();
        long errors0 = load.errors.sum();
        long cpu0 = os.getProcessCpuTime();
        long alloc0 = threads.getTotalThreadAllocatedBytes();
        long t0 = System.nanoTime();
        TimeUnit.SECONDS.sleep(duration);
        long done1 = load.done.sum();
        long errors1 = load.errors.sum();
        long cpu1 = os.getProcessCpuTime();
        long alloc1 = threads.getTotalThreadAllocatedBytes();
        long t1 = System.nanoTime();
        load.running.set(false);

        long requests = Math.max(1, done1 - done0);
        System.out.printf(
                Locale.ROOT,
                "RESULT %s %s %d %.0f %.1f %.0f %d%n",
                impl,
                h2 ? "h2c" : "h1",
                done1 - done0,
                (done1 - done0) * 1e9 / (t1 - t0),
                (cpu1 - cpu0) / 1e3 / requests,
                (double) (alloc1 - alloc0) / requests,
                errors1 - errors0);
        // Let the requests in flight finish (bounded) before closing, so no client logs about them.
        for (int i = 0; i < 50 && load.outstanding.get() > 0; i++) {
            TimeUnit.MILLISECONDS.sleep(100);
        }
        caller.close();
        System.exit(0); // some clients keep non-daemon threads alive for a while after closing
    }

    /** The loops: each finished request starts the next one while running. */
    private static final class Load {
        final Caller caller;
        final LongAdder done = new LongAdder();
        final LongAdder errors = new LongAdder();
        final AtomicInteger outstanding = new AtomicInteger();
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicBoolean reported = new AtomicBoolean();

        Load(Caller caller) {
            this.caller = caller;
        }

        void next() {
            outstanding.incrementAndGet();
            caller.get(this::finished);
        }

        private void finished(@Nullable Throwable failure) {
            outstanding.decrementAndGet();
            if (failure == null) {
                done.increment();
            } else {
                errors.increment();
                if (reported.compareAndSet(false, true)) {
                    System.err.println("first failure: " + failure);
                }
            }
            if (running.get()) {
                next();
            }
        }
    }
}
