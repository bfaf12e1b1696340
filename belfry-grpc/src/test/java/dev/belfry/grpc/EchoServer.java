package dev.belfry.grpc;

import dev.belfry.grpc.server.HealthService;
import dev.belfry.grpc.test.EchoGrpc;
import dev.belfry.grpc.test.EchoReply;
import dev.belfry.grpc.test.EchoRequest;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A real grpc-java server on loopback running the test {@code Echo} service and the health
 * service, counting the calls it gets and recording what it saw of each (headers, deadline,
 * cancellation).
 */
final class EchoServer implements AutoCloseable {
    static final Metadata.Key<String> TAG = Metadata.Key.of("x-belfry-tag", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> ENCODING = Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER);
    static final Context.Key<Metadata> HEADERS = Context.key("headers");

    final String name;
    final HealthService health = new HealthService();
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger cancellations = new AtomicInteger();
    final ConcurrentLinkedQueue<Long> deadlinesMillis = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> tags = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> encodings = new ConcurrentLinkedQueue<>();
    volatile CountDownLatch cancelled = new CountDownLatch(1);
    // When set, every Say call fails at once with this status.
    volatile @Nullable Status failEvery;
    // Say calls whose text starts with "held": answered by release(), failed by fail().
    private final ConcurrentLinkedQueue<Held> held = new ConcurrentLinkedQueue<>();

    /** A held call: its answer, and how to fail it instead. */
    private record Held(Runnable answer, Consumer<Status> failure) {}

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final Object answering = new Object();
    private boolean dead; // guarded by answering
    private final Server server;

    EchoServer(String name, ServerInterceptor... extra) throws IOException {
        this.name = name;
        ServerInterceptor recordHeaders = new ServerInterceptor() {
            @Override
            public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
                    ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
                return Contexts.interceptCall(Context.current().withValue(HEADERS, headers), call, headers, next);
            }
        };
        List<ServerInterceptor> interceptors = new ArrayList<>(List.of(extra));
        interceptors.add(recordHeaders);
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(ServerInterceptors.intercept(new Echo(), interceptors))
                .addService(health.bindableService())
                .build()
                .start();
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getPort());
    }

    /** Answers every {@code Say} call held so far (text starting with "held") that was not cancelled. */
    void release() {
        Held call;
        while ((call = held.poll()) != null) {
            call.answer().run();
        }
    }

    /** Fails every {@code Say} call held so far with {@code status}. */
    void fail(Status status) {
        Held call;
        while ((call = held.poll()) != null) {
            call.failure().accept(status);
        }
    }

    /** How many calls are held now. */
    int held() {
        return held.size();
    }

    /**
     * Kills the server: every connection is closed at once and calls in flight fail, none of them
     * half answered. A call's answer (its headers, message and trailers) is written whole under
     * {@link #answering} or not at all, so each call in flight at the kill is reset before its
     * headers: the case a channel may retry. (A server that dies between a call's headers and its
     * trailers fails that call, as grpc-java's own retries would: the caller has seen headers.)
     */
    void kill() {
        synchronized (answering) {
            dead = true;
        }
        server.shutdownNow();
    }

    /** Runs {@code answer} unless the server was killed, never interleaved with a kill. */
    private void answerWhole(Runnable answer) {
        synchronized (answering) {
            if (!dead) {
                answer.run();
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(10, TimeUnit.SECONDS);
        timer.shutdownNow();
    }

    private final class Echo extends EchoGrpc.EchoImplBase {
        private void record() {
            calls.incrementAndGet();
            Metadata headers = HEADERS.get();
            if (headers != null) {
                String tag = headers.get(TAG);
                if (tag != null) {
                    tags.add(tag);
                }
                String encoding = headers.get(ENCODING);
                if (encoding != null) {
                    encodings.add(encoding);
                }
            }
            Context context = Context.current();
            if (context.getDeadline() != null) {
                deadlinesMillis.add(context.getDeadline().timeRemaining(TimeUnit.MILLISECONDS));
            }
            // grpc-java cancels a call's context when the call ends, with no cause when it ended
            // normally: only a cancellation (by the client, a deadline, a reset) counts.
            context.addListener(
                    c -> {
                        if (c.cancellationCause() != null) {
                            cancellations.incrementAndGet();
                            cancelled.countDown();
                        }
                    },
                    Runnable::run);
        }

        private EchoReply reply(String text) {
            return EchoReply.newBuilder().setText(text).setServer(name).build();
        }

        @Override
        public void say(EchoRequest request, StreamObserver<EchoReply> responses) {
            record();
            Status failure = failEvery;
            if (failure != null) {
                responses.onError(failure.asRuntimeException());
                return;
            }
            if (request.getText().equals("unavailable")) {
                responses.onError(
                        Status.UNAVAILABLE.withDescription("said by the server").asRuntimeException());
                return;
            }
            if (request.getText().equals("bad")) {
                responses.onError(
                        Status.INVALID_ARGUMENT.withDescription("bad text").asRuntimeException());
                return;
            }
            if (request.getText().startsWith("held")) {
                Context context = Context.current();
                held.add(new Held(
                        () -> {
                            if (!context.isCancelled()) {
                                responses.onNext(reply(request.getText()));
                                responses.onCompleted();
                            }
                        },
                        status -> responses.onError(status.asRuntimeException())));
                return;
            }
            answerLater(
                    request.getDelayMillis(),
                    () -> answerWhole(() -> {
                        responses.onNext(reply(request.getText()));
                        responses.onCompleted();
                    }));
        }

        @Override
        public void append(EchoRequest request, StreamObserver<EchoReply> responses) {
            say(request, responses);
        }

        @Override
        public void split(EchoRequest request, StreamObserver<EchoReply> responses) {
            record();
            for (String word : request.getText().split(" ", -1)) {
                responses.onNext(reply(word));
            }
            responses.onCompleted();
        }

        @Override
        public StreamObserver<EchoRequest> join(StreamObserver<EchoReply> responses) {
            record();
            List<String> texts = new ArrayList<>();
            return new StreamObserver<>() {
                @Override
                public void onNext(EchoRequest value) {
                    texts.add(value.getText());
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    responses.onNext(reply(String.join(" ", texts)));
                    responses.onCompleted();
                }
            };
        }

        @Override
        public StreamObserver<EchoRequest> chat(StreamObserver<EchoReply> responses) {
            record();
            return new StreamObserver<>() {
                @Override
                public void onNext(EchoRequest value) {
                    responses.onNext(reply(value.getText()));
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    responses.onCompleted();
                }
            };
        }

        private void answerLater(int delayMillis, Runnable answer) {
            if (delayMillis <= 0) {
                answer.run();
                return;
            }
            Context context = Context.current();
            timer.schedule(
                    () -> {
                        if (!context.isCancelled()) {
                            answer.run();
                        }
                    },
                    delayMillis,
                    TimeUnit.MILLISECONDS);
        }
    }
}
