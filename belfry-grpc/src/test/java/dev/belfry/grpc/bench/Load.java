package dev.belfry.grpc.bench;

import dev.belfry.grpc.test.EchoGrpc;
import dev.belfry.grpc.test.EchoRequest;
import io.grpc.Channel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A closed loop of unary {@code Echo.Say} calls: {@code inFlight} calls outstanding at all times,
 * each completion starting the next, until {@link #stop}. Between {@link #record} and {@link
 * #pause} it counts successes and failures (by status code) and keeps each success's latency.
 */
final class Load {
    private static final EchoRequest REQUEST =
            EchoRequest.newBuilder().setText("ping").build();

    private final EchoGrpc.EchoStub stub;
    private final int inFlight;
    private final AtomicInteger outstanding = new AtomicInteger();
    private final LongAdder sent = new LongAdder();
    private final Outcomes outcomes = new Outcomes();
    private volatile boolean running = true;
    // Opened once no call is outstanding after stop(): the last one to end opens it.
    private final CountDownLatch drained = new CountDownLatch(1);
    private volatile boolean recording;

    Load(Channel channel, int inFlight) {
        this.stub = EchoGrpc.newStub(channel);
        this.inFlight = inFlight;
    }

    Load start() {
        for (int i = 0; i < inFlight; i++) {
            next();
        }
        return this;
    }

    private void next() {
        if (!running) {
            return;
        }
        outstanding.incrementAndGet();
        sent.increment();
        long start = System.nanoTime();
        stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                .say(REQUEST, outcomes.observer(() -> recording, start, this::done));
    }

    private void done() {
        if (outstanding.decrementAndGet() == 0 && !running) {
            drained.countDown();
        }
        next();
    }

    void record() {
        recording = true;
    }

    void pause() {
        recording = false;
    }

    /** Stops starting calls and waits up to 15 s for those outstanding to end. */
    void stop() throws InterruptedException {
        running = false;
        if (outstanding.get() == 0) {
            drained.countDown();
        }
        drained.await(15, TimeUnit.SECONDS);
    }

    /** Calls sent so far, recorded or not. */
    long sent() {
        return sent.sum();
    }

    long ok() {
        return outcomes.ok();
    }

    long failed() {
        return outcomes.failed();
    }

    /** Failures by status code, {@code UNAVAILABLE=3 ...}, or {@code -}. */
    String failureCodes() {
        return outcomes.failureCodes();
    }

    /** The latency percentile {@code p} (0 to 100) of the recorded successes, in milliseconds. */
    double percentileMillis(double p) {
        return outcomes.percentileMillis(p);
    }
}
