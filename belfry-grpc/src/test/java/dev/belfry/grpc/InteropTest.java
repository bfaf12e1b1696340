package dev.belfry.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.belfry.channel.AddressSource;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.integration.EmptyProtos.Empty;
import io.grpc.testing.integration.Messages.EchoStatus;
import io.grpc.testing.integration.Messages.Payload;
import io.grpc.testing.integration.Messages.ResponseParameters;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.SimpleResponse;
import io.grpc.testing.integration.Messages.StreamingInputCallRequest;
import io.grpc.testing.integration.Messages.StreamingInputCallResponse;
import io.grpc.testing.integration.Messages.StreamingOutputCallRequest;
import io.grpc.testing.integration.Messages.StreamingOutputCallResponse;
import io.grpc.testing.integration.TestServiceGrpc;
import io.grpc.testing.integration.UnimplementedServiceGrpc;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * grpc-java's interop test cases, driven through a {@link WarmGrpcChannel}, against grpc-java's own
 * interop {@code TestServiceServer} (grpc-interop-testing 1.79.0) running in its own JVM.
 *
 * <p>The peer's classpath is resolved once by {@code dependency:build-classpath} on {@code
 * src/test/interop/pom.xml} into {@code target/interop-peer.classpath}; the server is started with
 * {@link ProcessBuilder} on a free port and destroyed by pid after the tests. The cases follow
 * {@code doc/interop-test-descriptions.md} of grpc/grpc, with the stubs compiled here from the
 * peer's own {@code test.proto}, so no 1.79 class reaches this classpath.
 */
@Timeout(120)
class InteropTest {
    private static final int[] REQUEST_SIZES = {27182, 8, 1828, 45904};
    private static final int[] RESPONSE_SIZES = {31415, 9, 2653, 58979};
    private static final Metadata.Key<String> ECHO_INITIAL =
            Metadata.Key.of("x-grpc-test-echo-initial", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<byte[]> ECHO_TRAILING =
            Metadata.Key.of("x-grpc-test-echo-trailing-bin", Metadata.BINARY_BYTE_MARSHALLER);

    private static Process peer;
    private static WarmGrpcChannel channel;

    @BeforeAll
    static void startThePeerInItsOwnJvmAndAChannel() throws Exception {
        Path classpath = Path.of("target", "interop-peer.classpath").toAbsolutePath();
        if (!Files.exists(classpath)) {
            resolveClasspath(classpath);
        }
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        peer = new ProcessBuilder(
                        java,
                        "-cp",
                        Files.readString(classpath).trim(),
                        "io.grpc.testing.integration.TestServiceServer",
                        "--port=" + port,
                        "--use_tls=false")
                .redirectErrorStream(true)
                .start();
        CompletableFuture<Void> started = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader out =
                    new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.contains("Server started on port")) {
                        started.complete(null);
                    }
                }
                started.completeExceptionally(new IllegalStateException("the interop server exited"));
            } catch (IOException e) {
                started.completeExceptionally(e);
            }
        });
        started.get(60, TimeUnit.SECONDS);
        channel = WarmGrpcChannel.builder(
                        "interop",
                        AddressSource.of(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))))
                // TestServiceServer has no health service: a connected member is healthy.
                .healthChecking(false)
                .build();
        channel.whenReady().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static void resolveClasspath(Path classpath) throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent();
        Process maven = new ProcessBuilder(
                        root.resolve("mvnw").toString(),
                        "-B",
                        "-q",
                        "-f",
                        root.resolve("belfry-grpc/src/test/interop/pom.xml").toString(),
                        "dependency:build-classpath",
                        "-Dmdep.outputFile=" + classpath)
                .directory(root.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            if (!maven.waitFor(5, TimeUnit.MINUTES) || maven.exitValue() != 0) {
                throw new IllegalStateException("resolving the interop peer's classpath failed");
            }
        } finally {
            maven.destroyForcibly();
        }
    }

    @AfterAll
    static void stopEverything() throws Exception {
        try {
            if (channel != null) {
                channel.close();
                channel.awaitTermination(Duration.ofSeconds(10));
            }
        } finally {
            if (peer != null) {
                ProcessHandle.of(peer.pid()).ifPresent(ProcessHandle::destroyForcibly);
                peer.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static TestServiceGrpc.TestServiceBlockingStub blocking() {
        return TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static TestServiceGrpc.TestServiceStub async() {
        return TestServiceGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static Payload zeros(int size) {
        return Payload.newBuilder().setBody(ByteString.copyFrom(new byte[size])).build();
    }

    private static StreamingOutputCallRequest pingOf(int i) {
        return StreamingOutputCallRequest.newBuilder()
                .addResponseParameters(ResponseParameters.newBuilder().setSize(RESPONSE_SIZES[i]))
                .setPayload(zeros(REQUEST_SIZES[i]))
                .build();
    }

    @Test
    void emptyUnary() {
        assertThat(blocking().emptyCall(Empty.getDefaultInstance())).isEqualTo(Empty.getDefaultInstance());
    }

    @Test
    void largeUnary() {
        SimpleResponse response = blocking()
                .unaryCall(SimpleRequest.newBuilder()
                        .setResponseSize(314159)
                        .setPayload(zeros(271828))
                        .build());
        assertThat(response.getPayload().getBody().size()).isEqualTo(314159);
        assertThat(response.getPayload().getBody()).isEqualTo(ByteString.copyFrom(new byte[314159]));
    }

    @Test
    void clientCompressedAndServerCompressedUnary() {
        SimpleResponse response = blocking()
                .withCompression("gzip")
                .unaryCall(SimpleRequest.newBuilder()
                        .setResponseSize(314159)
                        .setPayload(zeros(271828))
                        .build());
        assertThat(response.getPayload().getBody().size()).isEqualTo(314159);
    }

    @Test
    void clientStreaming() throws Exception {
        CompletableFuture<StreamingInputCallResponse> result = new CompletableFuture<>();
        StreamObserver<StreamingInputCallRequest> requests = async().streamingInputCall(observer(result));
        for (int size : REQUEST_SIZES) {
            requests.onNext(StreamingInputCallRequest.newBuilder()
                    .setPayload(zeros(size))
                    .build());
        }
        requests.onCompleted();
        assertThat(result.get(10, TimeUnit.SECONDS).getAggregatedPayloadSize()).isEqualTo(74922);
    }

    @Test
    void serverStreaming() {
        StreamingOutputCallRequest.Builder request = StreamingOutputCallRequest.newBuilder();
        for (int size : RESPONSE_SIZES) {
            request.addResponseParameters(ResponseParameters.newBuilder().setSize(size));
        }
        List<Integer> sizes = new ArrayList<>();
        blocking()
                .streamingOutputCall(request.build())
                .forEachRemaining(
                        response -> sizes.add(response.getPayload().getBody().size()));
        assertThat(sizes).containsExactly(31415, 9, 2653, 58979);
    }

    @Test
    void pingPong() throws Exception {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        StreamObserver<StreamingOutputCallRequest> requests = async().fullDuplexCall(queueing(events));
        for (int i = 0; i < REQUEST_SIZES.length; i++) {
            requests.onNext(pingOf(i));
            Object event = events.poll(10, TimeUnit.SECONDS);
            assertThat(event).isInstanceOf(StreamingOutputCallResponse.class);
            assertThat(((StreamingOutputCallResponse) event)
                            .getPayload()
                            .getBody()
                            .size())
                    .isEqualTo(RESPONSE_SIZES[i]);
        }
        requests.onCompleted();
        assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("completed");
    }

    @Test
    void emptyStream() throws Exception {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        StreamObserver<StreamingOutputCallRequest> requests = async().fullDuplexCall(queueing(events));
        requests.onCompleted();
        assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("completed");
    }

    @Test
    void cancelAfterBegin() throws Exception {
        CompletableFuture<StreamingInputCallResponse> result = new CompletableFuture<>();
        AtomicReference<ClientCallStreamObserver<StreamingInputCallRequest>> call = new AtomicReference<>();
        async().streamingInputCall(new ClientResponseObserver<StreamingInputCallRequest, StreamingInputCallResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<StreamingInputCallRequest> requestStream) {
                call.set(requestStream);
            }

            @Override
            public void onNext(StreamingInputCallResponse value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        });
        call.get().cancel("cancel after begin", null);
        assertThat(statusOf(result).getCode()).isEqualTo(Status.Code.CANCELLED);
    }

    @Test
    void cancelAfterFirstResponse() throws Exception {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        AtomicReference<ClientCallStreamObserver<StreamingOutputCallRequest>> call = new AtomicReference<>();
        async().fullDuplexCall(new ClientResponseObserver<StreamingOutputCallRequest, StreamingOutputCallResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<StreamingOutputCallRequest> requestStream) {
                call.set(requestStream);
            }

            @Override
            public void onNext(StreamingOutputCallResponse value) {
                events.add(value);
            }

            @Override
            public void onError(Throwable t) {
                events.add(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                events.add("completed");
            }
        });
        call.get().onNext(pingOf(0));
        assertThat(events.poll(10, TimeUnit.SECONDS)).isInstanceOf(StreamingOutputCallResponse.class);
        call.get().cancel("cancel after first response", null);
        Object end = events.poll(10, TimeUnit.SECONDS);
        assertThat(end).isInstanceOf(Status.class);
        assertThat(((Status) end).getCode()).isEqualTo(Status.Code.CANCELLED);
    }

    @Test
    void timeoutOnSleepingServer() throws Exception {
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        StreamObserver<StreamingOutputCallRequest> requests = TestServiceGrpc.newStub(channel)
                .withDeadlineAfter(1, TimeUnit.MILLISECONDS)
                .fullDuplexCall(queueing(events));
        try {
            requests.onNext(StreamingOutputCallRequest.newBuilder()
                    .setPayload(zeros(27182))
                    .build());
        } catch (IllegalStateException e) {
            // The call may already have ended; the outcome below is what counts.
        }
        Object end = events.poll(10, TimeUnit.SECONDS);
        assertThat(end).isInstanceOf(Status.class);
        assertThat(((Status) end).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    }

    @Test
    void customMetadata() throws Exception {
        Metadata extra = new Metadata();
        extra.put(ECHO_INITIAL, "test_initial_metadata_value");
        extra.put(ECHO_TRAILING, new byte[] {(byte) 0xab, (byte) 0xab, (byte) 0xab});
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        io.grpc.Channel withMetadata = ClientInterceptors.intercept(
                channel,
                MetadataUtils.newAttachHeadersInterceptor(extra),
                MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));

        SimpleResponse response = TestServiceGrpc.newBlockingStub(withMetadata)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .unaryCall(SimpleRequest.newBuilder()
                        .setResponseSize(314159)
                        .setPayload(zeros(271828))
                        .build());
        assertThat(response.getPayload().getBody().size()).isEqualTo(314159);
        assertThat(headers.get().get(ECHO_INITIAL)).isEqualTo("test_initial_metadata_value");
        assertThat(trailers.get().get(ECHO_TRAILING)).containsExactly((byte) 0xab, (byte) 0xab, (byte) 0xab);

        headers.set(null);
        trailers.set(null);
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        StreamObserver<StreamingOutputCallRequest> requests = TestServiceGrpc.newStub(withMetadata)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .fullDuplexCall(queueing(events));
        requests.onNext(StreamingOutputCallRequest.newBuilder()
                .addResponseParameters(ResponseParameters.newBuilder().setSize(314159))
                .setPayload(zeros(271828))
                .build());
        requests.onCompleted();
        assertThat(events.poll(10, TimeUnit.SECONDS)).isInstanceOf(StreamingOutputCallResponse.class);
        assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("completed");
        assertThat(headers.get().get(ECHO_INITIAL)).isEqualTo("test_initial_metadata_value");
        assertThat(trailers.get().get(ECHO_TRAILING)).containsExactly((byte) 0xab, (byte) 0xab, (byte) 0xab);
    }

    @Test
    void statusCodeAndMessage() throws Exception {
        EchoStatus unknown = EchoStatus.newBuilder()
                .setCode(2)
                .setMessage("test status message")
                .build();
        assertThatThrownBy(() -> blocking()
                        .unaryCall(SimpleRequest.newBuilder()
                                .setResponseStatus(unknown)
                                .build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
                    assertThat(e.getStatus().getDescription()).isEqualTo("test status message");
                });

        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        StreamObserver<StreamingOutputCallRequest> requests = async().fullDuplexCall(queueing(events));
        requests.onNext(StreamingOutputCallRequest.newBuilder()
                .setResponseStatus(unknown)
                .build());
        requests.onCompleted();
        Object end = events.poll(10, TimeUnit.SECONDS);
        assertThat(end).isInstanceOf(Status.class);
        assertThat(((Status) end).getCode()).isEqualTo(Status.Code.UNKNOWN);
        assertThat(((Status) end).getDescription()).isEqualTo("test status message");
    }

    @Test
    void specialStatusMessage() {
        String message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";
        EchoStatus status =
                EchoStatus.newBuilder().setCode(2).setMessage(message).build();
        assertThatThrownBy(() -> blocking()
                        .unaryCall(SimpleRequest.newBuilder()
                                .setResponseStatus(status)
                                .build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
                    assertThat(e.getStatus().getDescription()).isEqualTo(message);
                });
    }

    @Test
    void unimplementedMethodAndService() {
        assertThatThrownBy(() -> blocking().unimplementedCall(Empty.getDefaultInstance()))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
        assertThatThrownBy(() -> UnimplementedServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(10, TimeUnit.SECONDS)
                        .unimplementedCall(Empty.getDefaultInstance()))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
    }

    private static <T> StreamObserver<T> observer(CompletableFuture<T> result) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        };
    }

    private static <T> StreamObserver<T> queueing(LinkedBlockingQueue<Object> events) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                events.add(value);
            }

            @Override
            public void onError(Throwable t) {
                events.add(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                events.add("completed");
            }
        };
    }

    private static Status statusOf(CompletableFuture<?> result) throws Exception {
        try {
            result.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return Status.fromThrowable(e.getCause());
        }
        throw new AssertionError("the call succeeded");
    }
}
