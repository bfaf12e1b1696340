package dev.belfry.grpc.bench;

import dev.belfry.grpc.test.EchoReply;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * What a load generator's calls came to: successes with their latencies, and failures by status
 * code. Shared by the closed loop ({@link Load}) and the open one ({@link RateLoad}). Thread-safe.
 */
final class Outcomes {
    private final LongAdder ok = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();
    private final Latencies latencies = new Latencies();

    /**
     * An observer of one unary call: if {@code counted} says so when the call ends, its outcome is
     * recorded, a success with its latency from {@code fromNanos}; {@code done} runs after either
     * end.
     */
    StreamObserver<EchoReply> observer(BooleanSupplier counted, long fromNanos, Runnable done) {
        return new StreamObserver<>() {
            @Override
            public void onNext(EchoReply reply) {}

            @Override
            public void onError(Throwable t) {
                if (counted.getAsBoolean()) {
                    failed.increment();
                    failures.computeIfAbsent(Status.fromThrowable(t).getCode().name(), k -> new LongAdder())
                            .increment();
                }
                done.run();
            }

            @Override
            public void onCompleted() {
                if (counted.getAsBoolean()) {
                    ok.increment();
                    latencies.add(System.nanoTime() - fromNanos);
                }
                done.run();
            }
        };
    }

    long ok() {
        return ok.sum();
    }

    long failed() {
        return failed.sum();
    }

    /** Failures by status code, {@code UNAVAILABLE=3 ...}, or {@code -}. */
    String failureCodes() {
        if (failures.isEmpty()) {
            return "-";
        }
        StringBuilder text = new StringBuilder();
        new TreeMap<>(failures)
                .forEach((code, count) ->
                        text.append(code).append('=').append(count.sum()).append(','));
        return text.substring(0, text.length() - 1);
    }

    /** The latency percentile {@code p} (0 to 100) of the recorded successes, in milliseconds. */
    double percentileMillis(double p) {
        return latencies.percentileMillis(p);
    }
}
