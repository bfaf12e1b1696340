package dev.belfry.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.belfry.channel.AddressSource;
import dev.belfry.channel.PoolState;
import dev.belfry.channel.Resolution;
import dev.belfry.grpc.test.EchoGrpc;
import dev.belfry.grpc.test.EchoReply;
import dev.belfry.grpc.test.EchoRequest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A warm channel in front of three real grpc-java servers on loopback, used through generated stubs. */
@Timeout(60)
class WarmGrpcChannelTest {
    private final List<EchoServer> servers = new ArrayList<>();
    private WarmGrpcChannel channel;

    @BeforeEach
    void startThreeServersAndAChannel() throws Exception {
        for (String name : List.of("s0", "s1", "s2")) {
            servers.add(new EchoServer(name));
        }
        channel = WarmGrpcChannel.builder("echo", AddressSource.of(addresses())).build();
        channel.whenReady().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void closeEverything() throws Exception {
        channel.close();
        assertThat(channel.awaitTermination(Duration.ofSeconds(10))).isTrue();
        for (EchoServer server : servers) {
            server.close();
        }
    }

    private List<InetSocketAddress> addresses() {
        return servers.stream().map(EchoServer::address).toList();
    }

    private static EchoRequest text(String text) {
        return EchoRequest.newBuilder().setText(text).build();
    }

    private Map<String, Integer> spread(int calls) {
        EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(channel);
        Map<String, Integer> byServer = new HashMap<>();
        for (int i = 0; i < calls; i++) {
            EchoReply reply = stub.withDeadlineAfter(5, TimeUnit.SECONDS).say(text("hi " + i));
            assertThat(reply.getText()).isEqualTo("hi " + i);
            byServer.merge(reply.getServer(), 1, Integer::sum);
        }
        return byServer;
    }

    @Test
    void isHealthyBeforeTheFirstCallAndSpreadsUnaryCallsOverEveryServer() throws Exception {
        assertThat(channel.status().get().state()).isEqualTo(PoolState.HEALTHY);
        assertThat(channel.status().get().members()).isEqualTo(3);
        Map<String, Integer> byServer = spread(60);
        assertThat(byServer.keySet()).containsExactlyInAnyOrder("s0", "s1", "s2");
        // Peak-EWMA prefers the fastest member, so the shares differ; every member takes some.
        assertThat(byServer.values()).allSatisfy(count -> assertThat(count).isPositive());
        assertThat(byServer.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(60);
    }

    @Test
    void serverClientAndBidiStreamingWorkThroughGeneratedStubs() throws Exception {
        EchoGrpc.EchoBlockingStub blocking = EchoGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
        List<String> words = new ArrayList<>();
        blocking.split(text("one two three")).forEachRemaining(reply -> words.add(reply.getText()));
        assertThat(words).containsExactly("one", "two", "three");

        EchoGrpc.EchoStub async = EchoGrpc.newStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
        Collector joined = new Collector();
        StreamObserver<EchoRequest> join = async.join(joined);
        join.onNext(text("a"));
        join.onNext(text("b"));
        join.onNext(text("c"));
        join.onCompleted();
        assertThat(joined.done.get(5, TimeUnit.SECONDS)).containsExactly("a b c");

        Collector chatted = new Collector();
        StreamObserver<EchoRequest> chat = async.chat(chatted);
        for (int i = 0; i < 10; i++) {
            chat.onNext(text("m" + i));
        }
        chat.onCompleted();
        assertThat(chatted.done.get(5, TimeUnit.SECONDS))
                .containsExactly("m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9");
    }

    @Test
    void theServersStatusReachesTheCallerUnchanged() {
        EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
        assertThatThrownBy(() -> stub.say(text("bad"))).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).isEqualTo("bad text");
        });
        // Not retried: one server saw it, once.
        assertThat(servers.stream().mapToInt(s -> s.calls.get()).sum()).isEqualTo(1);
    }

    @Test
    void theDeadlineReachesTheServerAndEndsTheCall() {
        EchoGrpc.EchoBlockingStub stub =
                EchoGrpc.newBlockingStub(channel).withDeadlineAfter(300, TimeUnit.MILLISECONDS);
        long start = System.nanoTime();
        assertThatThrownBy(() ->
                        stub.say(text("slow").toBuilder().setDelayMillis(5000).build()))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3000);
        List<Long> seen = new ArrayList<>();
        servers.forEach(s -> seen.addAll(s.deadlinesMillis));
        assertThat(seen).singleElement().satisfies(ms -> assertThat(ms).isBetween(1L, 300L));
        // The server's context is cancelled at the deadline, too.
        await().atMost(Duration.ofSeconds(5))
                .until(() ->
                        servers.stream().mapToInt(s -> s.cancellations.get()).sum() == 1);
    }

    @Test
    void cancellingTheCallCancelsItOnTheServer() throws Exception {
        EchoGrpc.EchoStub async = EchoGrpc.newStub(channel);
        Collector replies = new Collector();
        Context.CancellableContext context = Context.current().withCancellation();
        context.run(
                () -> async.say(text("slow").toBuilder().setDelayMillis(10_000).build(), replies));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> servers.stream().mapToInt(s -> s.calls.get()).sum() == 1);
        context.cancel(null);
        assertThat(replies.failure().getCode()).isEqualTo(Status.Code.CANCELLED);
        await().atMost(Duration.ofSeconds(5))
                .until(() ->
                        servers.stream().mapToInt(s -> s.cancellations.get()).sum() == 1);

        // And ClientCall.cancel directly, before the call even reached a member.
        ClientCall<EchoRequest, EchoReply> call = channel.newCall(EchoGrpc.getSayMethod(), CallOptions.DEFAULT);
        CompletableFuture<Status> closed = new CompletableFuture<>();
        call.start(
                new ClientCall.Listener<>() {
                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        closed.complete(status);
                    }
                },
                new Metadata());
        call.cancel("changed my mind", null);
        Status status = closed.get(5, TimeUnit.SECONDS);
        assertThat(status.getCode()).isEqualTo(Status.Code.CANCELLED);
        assertThat(status.getDescription()).isEqualTo("changed my mind");
    }

    @Test
    void metadataCompressionAndClientInterceptorsPassThrough() {
        AtomicInteger intercepted = new AtomicInteger();
        ClientInterceptor tagging = new ClientInterceptor() {
            @Override
            public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
                    MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
                intercepted.incrementAndGet();
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
                    @Override
                    public void start(Listener<RespT> responseListener, Metadata headers) {
                        headers.put(EchoServer.TAG, "from-interceptor");
                        super.start(responseListener, headers);
                    }
                };
            }
        };
        AtomicReference<Metadata> responseHeaders = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        Channel intercepted2 = ClientInterceptors.intercept(
                channel, tagging, MetadataUtils.newCaptureMetadataInterceptor(responseHeaders, trailers));
        EchoReply reply = EchoGrpc.newBlockingStub(intercepted2)
                .withCompression("gzip")
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .say(text("zipped"));
        assertThat(reply.getText()).isEqualTo("zipped");
        assertThat(intercepted.get()).isEqualTo(1);
        List<String> tags = new ArrayList<>();
        List<String> encodings = new ArrayList<>();
        servers.forEach(s -> {
            tags.addAll(s.tags);
            encodings.addAll(s.encodings);
        });
        assertThat(tags).containsExactly("from-interceptor");
        assertThat(encodings).containsExactly("gzip");
        assertThat(responseHeaders.get()).isNotNull();
        assertThat(responseHeaders.get().get(Metadata.Key.of("content-type", Metadata.ASCII_STRING_MARSHALLER)))
                .isEqualTo("application/grpc");
        assertThat(trailers.get()).isNotNull();
    }

    @Test
    void aServerKilledMidRunCostsNoIdempotentCall() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger ok = new AtomicInteger();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(channel);
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            callers.add(Thread.ofVirtual().start(() -> {
                while (running.get()) {
                    try {
                        stub.withDeadlineAfter(5, TimeUnit.SECONDS)
                                .say(text("x").toBuilder().setDelayMillis(2).build());
                        ok.incrementAndGet();
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                }
            }));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> ok.get() > 300);
        EchoServer victim = servers.get(1);
        victim.kill();
        int atKill = ok.get();
        await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() > atKill + 600);
        running.set(false);
        for (Thread caller : callers) {
            caller.join(10_000);
        }
        assertThat(failures).isEmpty();
        // The killed server's member left rotation; the others took everything.
        int victimCalls = victim.calls.get();
        assertThat(spread(30).keySet()).doesNotContain("s1");
        assertThat(victim.calls.get()).isEqualTo(victimCalls);
    }

    @Test
    void anAttemptThatNeverReachedAServerIsRetriedOnAnotherMemberButAServersUnavailableIsNot() throws Exception {
        // Below the warm channel, each member's own interceptor refuses every other call before
        // any stream exists, as a refused or GOAWAY'd stream would end: never sent.
        AtomicInteger turn = new AtomicInteger();
        List<String> refusedOn = java.util.Collections.synchronizedList(new ArrayList<>());
        ClientInterceptor refuseEveryOther = new ClientInterceptor() {
            @Override
            public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
                    MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
                if (!method.getFullMethodName().endsWith("/Append") || turn.getAndIncrement() % 2 != 0) {
                    return next.newCall(method, callOptions);
                }
                refusedOn.add(next.authority());
                return new ClientCall<>() {
                    @Override
                    public void start(Listener<RespT> listener, Metadata headers) {
                        listener.onClose(Status.UNAVAILABLE.withDescription("refused"), new Metadata());
                    }

                    @Override
                    public void request(int numMessages) {}

                    @Override
                    public void cancel(String message, Throwable cause) {}

                    @Override
                    public void halfClose() {}

                    @Override
                    public void sendMessage(ReqT message) {}
                };
            }
        };
        Map<String, String> nameByAuthority = new HashMap<>();
        for (EchoServer server : servers) {
            nameByAuthority.put(
                    server.address().getAddress().getHostAddress() + ":"
                            + server.address().getPort(),
                    server.name);
        }
        try (WarmGrpcChannel refusing = WarmGrpcChannel.builder("refusing", AddressSource.of(addresses()))
                .members(member -> member.intercept(refuseEveryOther))
                .build()) {
            refusing.whenReady().toCompletableFuture().get(10, TimeUnit.SECONDS);
            EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(refusing).withDeadlineAfter(5, TimeUnit.SECONDS);
            for (int i = 0; i < 20; i++) {
                refusedOn.clear();
                // Append is not idempotent: only a never-sent attempt may be repeated.
                EchoReply reply = stub.append(text("a" + i));
                assertThat(reply.getText()).isEqualTo("a" + i);
                assertThat(refusedOn).hasSize(1);
                assertThat(nameByAuthority.get(refusedOn.get(0))).isNotEqualTo(reply.getServer());
            }
            assertThat(servers.stream().mapToInt(s -> s.calls.get()).sum()).isEqualTo(20);

            // UNAVAILABLE said by a server reached it: the caller gets it, and nothing is repeated.
            turn.set(1);
            assertThatThrownBy(() -> stub.append(text("unavailable")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(e.getStatus().getDescription()).isEqualTo("said by the server");
                    });
            assertThat(servers.stream().mapToInt(s -> s.calls.get()).sum()).isEqualTo(21);
            refusing.close();
            assertThat(refusing.awaitTermination(Duration.ofSeconds(10))).isTrue();
        }
    }

    @Test
    void aWaitingCallWhoseAttemptClosesBeforeItsAdmissionIsReportedStillEndsOnTheCallersThread() throws Exception {
        // A call made before any member is ready waits in the pool; a member that becomes ready
        // admits it on a pool thread, which starts the attempt and replays the call's queued
        // messages there. Here that pool thread, in the replayed halfClose, waits until the server's
        // answer and close have been delivered to the caller's executor (a blocking stub's own
        // thread) before the admission is reported back to the call: the order a loaded machine
        // can produce. The call must still end, its close given to the caller's executor.
        AtomicReference<Thread> callerThread = new AtomicReference<>();
        AtomicBoolean raced = new AtomicBoolean();
        ClientInterceptor closeBeforeAdmission = new ClientInterceptor() {
            @Override
            public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
                    MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
                if (!method.getFullMethodName().endsWith("/Say")) {
                    return next.newCall(method, callOptions);
                }
                CountDownLatch closed = new CountDownLatch(1);
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
                    @Override
                    public void start(Listener<RespT> listener, Metadata headers) {
                        super.start(
                                new io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                                        listener) {
                                    @Override
                                    public void onClose(Status status, Metadata trailers) {
                                        super.onClose(status, trailers);
                                        closed.countDown();
                                    }
                                },
                                headers);
                    }

                    @Override
                    public void halfClose() {
                        super.halfClose();
                        if (!Thread.currentThread().equals(callerThread.get())) {
                            try {
                                raced.set(closed.await(5, TimeUnit.SECONDS));
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                    }
                };
            }
        };
        // The addresses arrive only once the call waits, so no member can be ready before it does.
        AtomicReference<Consumer<? super Resolution<InetSocketAddress>>> resolver = new AtomicReference<>();
        AddressSource<InetSocketAddress> later = listener -> {
            resolver.set(listener);
            return () -> {};
        };
        try (WarmGrpcChannel cold = WarmGrpcChannel.builder("cold", later)
                .members(member -> member.intercept(closeBeforeAdmission))
                .build()) {
            CompletableFuture<EchoReply> reply = new CompletableFuture<>();
            Thread caller = new Thread(() -> {
                try {
                    reply.complete(EchoGrpc.newBlockingStub(cold)
                            .withDeadlineAfter(10, TimeUnit.SECONDS)
                            .say(text("first")));
                } catch (RuntimeException e) {
                    reply.completeExceptionally(e);
                }
            });
            callerThread.set(caller);
            caller.setDaemon(true);
            caller.start();
            try {
                // A blocking stub's caller parks in its own executor while its call waits.
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> caller.getState() == Thread.State.WAITING
                                || caller.getState() == Thread.State.TIMED_WAITING);
                resolver.get().accept(Resolution.addresses(addresses()));
                assertThat(reply.get(8, TimeUnit.SECONDS).getText()).isEqualTo("first");
                assertThat(raced)
                        .as("the call waited and its attempt closed before admission")
                        .isTrue();
            } finally {
                caller.interrupt();
                caller.join(5_000);
            }
            cold.close();
            assertThat(cold.awaitTermination(Duration.ofSeconds(10))).isTrue();
        }
    }

    @Test
    void aServerSwitchedToNotServingStopsGettingCalls() throws Exception {
        EchoServer sick = servers.get(2);
        sick.health.setStatus("", false);
        // Watch pushes the change: the member leaves rotation without waiting for the next probe
        // (9 s away), so within a second no call reaches it.
        await().atMost(Duration.ofSeconds(1))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    int seen = sick.calls.get();
                    spread(3);
                    return sick.calls.get() == seen;
                });
        int before = sick.calls.get();
        Map<String, Integer> byServer = spread(40);
        // Every call went to a serving server. (Not necessarily to both: with sequential calls,
        // Peak-EWMA may keep choosing the one whose latency it measured lower.)
        assertThat(byServer.keySet()).isSubsetOf("s0", "s1");
        assertThat(byServer.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(40);
        assertThat(sick.calls.get()).isEqualTo(before);
    }

    @Test
    void aServerThatFailsFastGetsAlmostNoCallsThoughItAnswersFastest() {
        EchoServer failing = servers.get(0);
        failing.failEvery = Status.UNAVAILABLE.withDescription("overloaded");
        EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(channel);
        int failed = 0;
        for (int i = 0; i < 60; i++) {
            // The healthy servers take 5 ms; the failing one answers at once. Priced by time alone
            // it would look the cheapest and get most calls; its failures count as 100 ms instead.
            EchoRequest request = EchoRequest.newBuilder()
                    .setText("hi " + i)
                    .setDelayMillis(5)
                    .build();
            try {
                stub.withDeadlineAfter(5, TimeUnit.SECONDS).say(request);
            } catch (StatusRuntimeException e) {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                failed++;
            }
        }
        assertThat(failing.calls.get()).isBetween(1, 3);
        assertThat(failed).isEqualTo(failing.calls.get());
        assertThat(servers.get(1).calls.get() + servers.get(2).calls.get()).isEqualTo(60 - failed);
    }

    @Test
    void aCallWithNoMemberReadyFailsUnavailableNamingTheChannel() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (WarmGrpcChannel nowhere = WarmGrpcChannel.builder(
                        "nowhere",
                        AddressSource.of(
                                List.of(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), closedPort))))
                .pool(pool -> pool.failFastWait(Duration.ofMillis(300)))
                .build()) {
            EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(nowhere);
            assertThatThrownBy(() -> stub.say(text("x"))).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(e.getStatus().getDescription()).contains("'nowhere'").contains("300 ms");
            });
            // A deadline shorter than the wait ends it first.
            assertThatThrownBy(() ->
                            stub.withDeadlineAfter(50, TimeUnit.MILLISECONDS).say(text("x")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
                        assertThat(e.getStatus().getDescription())
                                .contains("waiting for a ready member of channel 'nowhere'");
                    });
            nowhere.close();
            assertThat(nowhere.awaitTermination(Duration.ofSeconds(5))).isTrue();
        }
    }

    /** Collects a streamed answer's texts. */
    static final class Collector implements StreamObserver<EchoReply> {
        final List<String> texts = new ArrayList<>();
        final CompletableFuture<List<String>> done = new CompletableFuture<>();
        final CountDownLatch closed = new CountDownLatch(1);

        @Override
        public synchronized void onNext(EchoReply value) {
            texts.add(value.getText());
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public synchronized void onCompleted() {
            done.complete(List.copyOf(texts));
        }

        Status failure() throws Exception {
            try {
                done.get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                return Status.fromThrowable(e.getCause());
            }
            throw new AssertionError("the call succeeded");
        }
    }
}
