package dev.belfry.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import dev.belfry.channel.AddressSource;
import dev.belfry.grpc.test.EchoGrpc;
import dev.belfry.grpc.test.EchoReply;
import dev.belfry.grpc.test.EchoRequest;
import dev.belfry.test.ManualClock;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hedged calls on a warm channel over two real grpc-java servers on loopback, the channel on a
 * manual clock: latencies are what the clock says, and a backup is sent exactly when it is due.
 * The servers hold every call whose text starts with "held" until the test releases them.
 */
@Timeout(60)
class HedgingTest {
    private static final Duration WINDOW = Duration.ofSeconds(1);
    private static final Duration LATENCY = Duration.ofMillis(10);

    private final ManualClock clock = new ManualClock();
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final List<EchoServer> servers = new ArrayList<>();
    // Member calls that closed with a failure, counted once the channel has handled the close.
    private final AtomicInteger failedCloses = new AtomicInteger();
    private WarmGrpcChannel channel;
    private EchoGrpc.EchoFutureStub stub;

    @BeforeEach
    void startTwoServersAndAHedgingChannel() throws Exception {
        servers.add(new EchoServer("s0"));
        servers.add(new EchoServer("s1"));
        List<InetSocketAddress> addresses =
                servers.stream().map(EchoServer::address).toList();
        // Two members per server: a backup that did not avoid the first call's address would land
        // on its server half of the time.
        channel = WarmGrpcChannel.builder("echo", AddressSource.of(addresses))
                .clock(clock)
                .metrics(registry)
                .pool(pool -> pool.want(4))
                .hedging(95, WINDOW, 20)
                .members(member -> member.intercept(new ClientInterceptor() {
                    @Override
                    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
                            MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
                        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                            @Override
                            public void start(Listener<RespT> listener, Metadata headers) {
                                super.start(
                                        new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                                                listener) {
                                            @Override
                                            public void onClose(Status status, Metadata trailers) {
                                                super.onClose(status, trailers);
                                                if (!status.isOk()) {
                                                    failedCloses.incrementAndGet();
                                                }
                                            }
                                        },
                                        headers);
                            }
                        };
                    }
                }))
                .build();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            clock.runDue();
            return channel.whenReady().toCompletableFuture().isDone();
        });
        stub = EchoGrpc.newFutureStub(channel);
    }

    @AfterEach
    void closeEverything() throws Exception {
        servers.forEach(EchoServer::release);
        channel.close();
        assertThat(channel.awaitTermination(Duration.ofSeconds(10))).isTrue();
        for (EchoServer server : servers) {
            server.close();
        }
    }

    private static EchoRequest text(String text) {
        return EchoRequest.newBuilder().setText(text).build();
    }

    private int callsReceived() {
        return servers.stream().mapToInt(server -> server.calls.get()).sum();
    }

    private double hedged(String method) {
        for (MetricSnapshot snapshot : registry.scrape()) {
            if (snapshot.getMetadata().getName().equals("grpc_client_hedged")) {
                for (CounterSnapshot.CounterDataPointSnapshot point : ((CounterSnapshot) snapshot).getDataPoints()) {
                    if (point.getLabels()
                            .equals(Labels.of(
                                    "channel", "echo", "grpc_method", method, "grpc_service", "belfry.test.Echo"))) {
                        return point.getValue();
                    }
                }
            }
        }
        return 0;
    }

    /**
     * Teaches the channel that {@code Say} takes {@link #LATENCY}: 20 calls held by the servers
     * while the clock moves that far, then released; then the window rotates so that they count.
     */
    private void learnLatency() throws Exception {
        learnLatency(stub::say);
        assertThat(hedged("Say"))
                .as("nothing is hedged before a window of latencies")
                .isZero();
    }

    /** {@link #learnLatency()} for the method {@code method} calls. */
    private void learnLatency(Function<EchoRequest, ListenableFuture<EchoReply>> method) throws Exception {
        int before = callsReceived();
        List<ListenableFuture<EchoReply>> calls = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            calls.add(method.apply(text("held warm-up " + i)));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> callsReceived() == before + 20);
        clock.advance(LATENCY);
        servers.forEach(EchoServer::release);
        for (ListenableFuture<EchoReply> call : calls) {
            assertThat(call.get(10, TimeUnit.SECONDS).getText()).startsWith("held warm-up");
        }
        clock.advance(WINDOW.minus(LATENCY));
    }

    /** A {@code Say} call that got a backup: the call, and the servers holding its two copies. */
    private record Hedged(ListenableFuture<EchoReply> call, EchoServer first, EchoServer backup) {}

    /**
     * Makes a held {@code Say} call, sees which server got it, and moves the clock to the learnt
     * percentile so that its backup reaches the other server.
     */
    private Hedged hedgedCall(String text) {
        int[] before = servers.stream().mapToInt(server -> server.calls.get()).toArray();
        int received = callsReceived();
        ListenableFuture<EchoReply> call = stub.say(text(text));
        await().atMost(Duration.ofSeconds(10)).until(() -> callsReceived() == received + 1);
        int firstIndex = servers.get(0).calls.get() > before[0] ? 0 : 1;
        clock.advance(LATENCY);
        await().atMost(Duration.ofSeconds(10)).until(() -> callsReceived() == received + 2);
        return new Hedged(call, servers.get(firstIndex), servers.get(1 - firstIndex));
    }

    @Test
    void aSlowCallGetsABackupOnTheOtherServerAtTheLatencyPercentileAndTheFirstAnswerWins() throws Exception {
        learnLatency();
        for (int round = 1; round <= 4; round++) {
            int[] before =
                    servers.stream().mapToInt(server -> server.calls.get()).toArray();
            int received = callsReceived();

            ListenableFuture<EchoReply> call = stub.say(text("held slow " + round));
            await().atMost(Duration.ofSeconds(10)).until(() -> callsReceived() == received + 1);
            int firstIndex = servers.get(0).calls.get() > before[0] ? 0 : 1;
            EchoServer first = servers.get(firstIndex);
            EchoServer other = servers.get(1 - firstIndex);

            clock.advance(LATENCY.minusNanos(1));
            assertThat(hedged("Say"))
                    .as("no backup before the 95th percentile has passed")
                    .isEqualTo(round - 1);
            clock.advance(Duration.ofNanos(1));
            assertThat(hedged("Say")).as("a backup at the 95th percentile").isEqualTo(round);
            await().atMost(Duration.ofSeconds(10)).until(() -> callsReceived() == received + 2);
            assertThat(other.calls.get())
                    .as("the backup went to the server the first call is not on")
                    .isEqualTo(before[1 - firstIndex] + 1);

            int cancelledBefore = first.cancellations.get();
            other.release();
            EchoReply reply = call.get(10, TimeUnit.SECONDS);
            assertThat(reply.getServer()).isEqualTo(other.name);
            assertThat(reply.getText()).isEqualTo("held slow " + round);
            await().atMost(Duration.ofSeconds(10))
                    .alias("the losing call is cancelled on its server")
                    .until(() -> first.cancellations.get() > cancelledBefore);
        }
    }

    @Test
    void theFirstCallWinsWhenItAnswersBeforeTheBackupAndTheBackupIsCancelled() throws Exception {
        learnLatency();
        int cancelledBefore =
                servers.stream().mapToInt(s -> s.cancellations.get()).sum();
        Hedged hedged = hedgedCall("held first");

        // The first server answers; the backup's server still holds its copy.
        int backupCancelledBefore = hedged.backup().cancellations.get();
        hedged.first().release();
        EchoReply reply = hedged.call().get(10, TimeUnit.SECONDS);
        assertThat(reply.getText()).isEqualTo("held first");
        assertThat(reply.getServer()).isEqualTo(hedged.first().name);
        await().atMost(Duration.ofSeconds(10))
                .alias("the backup, which lost, is cancelled on its server")
                .until(() -> hedged.backup().cancellations.get() > backupCancelledBefore);
        assertThat(servers.stream().mapToInt(s -> s.cancellations.get()).sum()).isGreaterThan(cancelledBefore);
    }

    @Test
    void aFailureOfOneCallWaitsForTheOtherWhichMayStillSucceed() throws Exception {
        learnLatency();
        Hedged hedged = hedgedCall("held then failed");

        int failedBefore = failedCloses.get();
        hedged.first().fail(Status.INTERNAL.withDescription("the first copy failed"));
        await().atMost(Duration.ofSeconds(10)).until(() -> failedCloses.get() >= failedBefore + 1);
        assertThat(hedged.call().isDone())
                .as("the caller still waits for the backup")
                .isFalse();
        hedged.backup().release();
        EchoReply reply = hedged.call().get(10, TimeUnit.SECONDS);
        assertThat(reply.getServer()).isEqualTo(hedged.backup().name);
        assertThat(reply.getText()).isEqualTo("held then failed");
    }

    @Test
    void aMethodNotMarkedIdempotentIsNeverHedged() throws Exception {
        // Append's latency is learnt from calls marked idempotent, so only the mark is missing below.
        learnLatency(stub.withOption(WarmGrpcChannel.IDEMPOTENT, true)::append);
        int received = callsReceived();
        // Append is not marked idempotent in the proto.
        ListenableFuture<EchoReply> call = stub.append(text("held append"));
        await().atMost(Duration.ofSeconds(10)).until(() -> callsReceived() == received + 1);
        clock.advance(Duration.ofSeconds(5));
        assertThat(hedged("Append")).isZero();
        servers.forEach(EchoServer::release);
        assertThat(call.get(10, TimeUnit.SECONDS).getText()).isEqualTo("held append");
        assertThat(callsReceived()).as("one copy only").isEqualTo(received + 1);
    }

    @Test
    void theIdempotentCallOptionMakesAnUnmarkedMethodHedgeable() throws Exception {
        // Learn Append's latency with the option set, then see it hedged.
        EchoGrpc.EchoFutureStub idempotent = stub.withOption(WarmGrpcChannel.IDEMPOTENT, true);
        learnLatency(idempotent::append);

        int received = callsReceived();
        ListenableFuture<EchoReply> call = idempotent.append(text("held again"));
        await().atMost(Duration.ofSeconds(10)).until(() -> callsReceived() == received + 1);
        clock.advance(LATENCY);
        assertThat(hedged("Append")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> callsReceived() == received + 2);
        servers.forEach(EchoServer::release);
        assertThat(call.get(10, TimeUnit.SECONDS).getText()).isEqualTo("held again");
    }

    @Test
    void noBackupWithoutATokenInTheRetryBudget() throws Exception {
        channel.close();
        assertThat(channel.awaitTermination(Duration.ofSeconds(10))).isTrue();
        List<InetSocketAddress> addresses =
                servers.stream().map(EchoServer::address).toList();
        // A budget with no reserve and no share of calls: it never has a token.
        channel = WarmGrpcChannel.builder("echo", AddressSource.of(addresses))
                .clock(clock)
                .metrics(new PrometheusRegistry())
                .hedging(95, WINDOW, 20)
                .retryBudget(dev.belfry.retry.RetryBudget.builder()
                        .minRetriesPerSecond(0)
                        .retryRatio(0)
                        .clock(clock)
                        .build())
                .build();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            clock.runDue();
            return channel.whenReady().toCompletableFuture().isDone();
        });
        stub = EchoGrpc.newFutureStub(channel);
        learnLatency();
        int received = callsReceived();
        ListenableFuture<EchoReply> call = stub.say(text("held budget"));
        await().atMost(Duration.ofSeconds(10)).until(() -> callsReceived() == received + 1);
        clock.advance(Duration.ofSeconds(1));
        servers.forEach(EchoServer::release);
        assertThat(call.get(10, TimeUnit.SECONDS).getText()).isEqualTo("held budget");
        assertThat(callsReceived()).as("no backup without a token").isEqualTo(received + 1);
    }

    @Test
    void cancellingAHedgedCallCancelsBothCopies() throws Exception {
        learnLatency();
        int cancelledBefore =
                servers.stream().mapToInt(s -> s.cancellations.get()).sum();
        ListenableFuture<EchoReply> call = hedgedCall("held cancel").call();
        call.cancel(true);
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        servers.stream().mapToInt(s -> s.cancellations.get()).sum() == cancelledBefore + 2);
        assertThat(call.isCancelled()).isTrue();
    }
}
