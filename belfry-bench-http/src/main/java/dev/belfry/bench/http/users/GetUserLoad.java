package dev.belfry.bench.http.users;

import dev.belfry.examples.users.grpc.GetUserRequest;
import dev.belfry.examples.users.grpc.User;
import dev.belfry.examples.users.grpc.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A closed loop of gRPC {@code GetUser} calls (the shape of belfry-grpc's bench {@code Load}, on the
 * users stubs): {@code IN_FLIGHT} calls outstanding at all times on one channel (one HTTP/2
 * connection), each completion starting the next, ids drawn evenly from 1 to {@code IDS} with a
 * fixed seed. Warms up, then measures for {@code DURATION} seconds, printing {@code MEASURING} and
 * {@code MEASURED} as the window opens and closes (a script samples the server's CPU then), and
 * the result:
 *
 * <pre>
 * java ... dev.belfry.bench.http.users.GetUserLoad HOST:PORT IN_FLIGHT WARMUP_S DURATION_S IDS
 * MEASURING
 * MEASURED
 * RESULT requests requests_per_s p50_us p99_us errors
 * </pre>
 *
 * <p>Errors are counted by status code (printed on a second line when there are any). Every call
 * has a 10 s deadline; the run ends by itself.
 */
public final class GetUserLoad {
    private static final int MAX_SAMPLES = 1 << 23;

    private final UserServiceGrpc.UserServiceStub stub;
    private final int ids;
    private final SplittableRandom random = new SplittableRandom(16);
    private final AtomicInteger outstanding = new AtomicInteger();
    private final LongAdder ok = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();
    private final long[] latencies = new long[MAX_SAMPLES];
    private final AtomicInteger samples = new AtomicInteger();
    private volatile boolean running = true;
    // Opened once no call is outstanding after stop(): the last one to end opens it.
    private final CountDownLatch drained = new CountDownLatch(1);
    private volatile boolean recording;

    private GetUserLoad(ManagedChannel channel, int ids) {
        this.stub = UserServiceGrpc.newStub(channel);
        this.ids = ids;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: GetUserLoad HOST:PORT IN_FLIGHT WARMUP_S DURATION_S IDS");
            System.exit(2);
        }
        int inFlight = Integer.parseInt(args[1]);
        long warmup = Long.parseLong(args[2]);
        long duration = Long.parseLong(args[3]);
        ManagedChannel channel =
                NettyChannelBuilder.forTarget(args[0]).usePlaintext().build();
        try {
            GetUserLoad load = new GetUserLoad(channel, Integer.parseInt(args[4]));
            for (int i = 0; i < inFlight; i++) {
                load.next();
            }
            TimeUnit.SECONDS.sleep(warmup);
            System.out.println("MEASURING");
            load.recording = true;
            long start = System.nanoTime();
            TimeUnit.SECONDS.sleep(duration);
            load.recording = false;
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.println("MEASURED");
            load.stop();
            long requests = load.ok.sum() + load.failed.sum();
            int n = Math.min(load.samples.get(), MAX_SAMPLES);
            long[] sorted = Arrays.copyOf(load.latencies, n);
            Arrays.sort(sorted);
            System.out.printf(
                    "RESULT %d %.0f %d %d %d%n",
                    requests,
                    requests / seconds,
                    percentile(sorted, 0.50) / 1000,
                    percentile(sorted, 0.99) / 1000,
                    load.failed.sum());
            if (!load.failures.isEmpty()) {
                System.out.println("failures by status: " + new TreeMap<>(load.failures));
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static long percentile(long[] sorted, double q) {
        return sorted.length == 0 ? -1 : sorted[Math.min(sorted.length - 1, (int) (sorted.length * q))];
    }

    private void next() {
        if (!running) {
            return;
        }
        outstanding.incrementAndGet();
        long id;
        synchronized (random) {
            id = 1L + random.nextInt(ids);
        }
        long start = System.nanoTime();
        stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                .getUser(GetUserRequest.newBuilder().setId(id).build(), new StreamObserver<User>() {
                    @Override
                    public void onNext(User user) {}

                    @Override
                    public void onError(Throwable t) {
                        if (recording) {
                            failed.increment();
                            failures.computeIfAbsent(
                                            Status.fromThrowable(t).getCode().name(), k -> new LongAdder())
                                    .increment();
                        }
                        done();
                    }

                    @Override
                    public void onCompleted() {
                        if (recording) {
                            ok.increment();
                            int slot = samples.getAndIncrement();
                            if (slot < MAX_SAMPLES) {
                                latencies[slot] = System.nanoTime() - start;
                            }
                        }
                        done();
                    }
                });
    }

    private void done() {
        if (outstanding.decrementAndGet() == 0 && !running) {
            drained.countDown();
        }
        next();
    }

    /** Stops starting calls and waits up to 15 s for those outstanding to end. */
    private void stop() throws InterruptedException {
        running = false;
        if (outstanding.get() == 0) {
            drained.countDown();
        }
        drained.await(15, TimeUnit.SECONDS);
    }
}
