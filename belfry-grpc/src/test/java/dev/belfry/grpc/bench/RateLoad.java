package dev.belfry.grpc.bench;

import dev.belfry.grpc.test.EchoGrpc;
import dev.belfry.grpc.test.EchoRequest;
import io.grpc.Channel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * An open loop of unary {@code Echo.Say} calls at a fixed offered rate: call {@code i} is due at
 * {@code start + i / rate}, whatever the calls before it are doing, and its latency is measured
 * from that due time, not from when it was actually sent. A client that stalls (a pause, a slow
 * call path, a scheduler that falls behind) therefore shows the stall in every call that should
 * have gone out during it, instead of sending fewer calls and hiding it (coordinated omission).
 *
 * <p>At most {@code maxInFlight} calls are outstanding: a call due while that many are is not
 * sent and counts as over the cap, a failure of the run (the client could not keep up with the
 * offered rate). Calls due between {@link #record} and {@link #pause} are counted, whenever they
 * end. One platform thread sends the calls; their responses arrive on the channel's threads.
 */
final class RateLoad {
    private static final EchoRequest REQUEST =
            EchoRequest.newBuilder().setText("ping").build();

    private final EchoGrpc.EchoStub stub;
    private final double rate;
    private final int maxInFlight;
    private final AtomicInteger outstanding = new AtomicInteger();
    private final LongAdder due = new LongAdder();
    private final LongAdder sent = new LongAdder();
    private final Outcomes outcomes = new Outcomes();
    private final LongAdder overCap = new LongAdder();
    private final CountDownLatch drained = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile boolean recording;
    private @Nullable Thread sender;

    RateLoad(Channel channel, double rate, int maxInFlight) {
        if (!(rate > 0) || maxInFlight < 1) {
            throw new IllegalArgumentException(
                    "rate must be > 0 and maxInFlight >= 1, got " + rate + " and " + maxInFlight);
        }
        this.stub = EchoGrpc.newStub(channel);
        this.rate = rate;
        this.maxInFlight = maxInFlight;
    }

    RateLoad start() {
        sender = Thread.ofPlatform().name("bench-rate").daemon().start(this::send);
        return this;
    }

    private void send() {
        long start = System.nanoTime();
        double interval = 1e9 / rate;
        for (long i = 0; running; i++) {
            long dueAt = start + (long) (i * interval);
            long wait;
            while (running && (wait = dueAt - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            if (!running) {
                break;
            }
            boolean counted = recording;
            if (counted) {
                due.increment();
            }
            if (outstanding.incrementAndGet() > maxInFlight) {
                outstanding.decrementAndGet();
                if (counted) {
                    overCap.increment();
                }
                continue;
            }
            sent.increment();
            call(dueAt, counted);
        }
    }

    private void call(long dueAt, boolean counted) {
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).say(REQUEST, outcomes.observer(() -> counted, dueAt, this::done));
    }

    private void done() {
        if (outstanding.decrementAndGet() == 0 && !running) {
            drained.countDown();
        }
    }

    /** Counts the calls due from now on. */
    void record() {
        recording = true;
    }

    /** Stops counting calls due from now on; those counted still end and are counted. */
    void pause() {
        recording = false;
    }

    /** Stops sending and waits up to 15 s for the calls outstanding to end. */
    void stop() throws InterruptedException {
        running = false;
        Thread thread = sender;
        if (thread != null) {
            thread.join(5000);
        }
        if (outstanding.get() == 0) {
            drained.countDown();
        }
        drained.await(15, TimeUnit.SECONDS);
    }

    /** Calls due while recording: sent or over the cap. */
    long due() {
        return due.sum();
    }

    /** Calls sent so far, recorded or not. */
    long sent() {
        return sent.sum();
    }

    long ok() {
        return outcomes.ok();
    }

    /** Calls that failed, plus those not sent because {@code maxInFlight} were outstanding. */
    long failed() {
        return outcomes.failed() + overCap.sum();
    }

    long overCap() {
        return overCap.sum();
    }

    /** Failures by status code, {@code UNAVAILABLE=3 ...}, or {@code -}. */
    String failureCodes() {
        return outcomes.failureCodes();
    }

    /** The percentile {@code p} (0 to 100) of the recorded successes' latencies from their due times, in ms. */
    double percentileMillis(double p) {
        return outcomes.percentileMillis(p);
    }
}
