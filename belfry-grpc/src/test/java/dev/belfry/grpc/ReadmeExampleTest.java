package dev.belfry.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.channel.AddressSource;
import dev.belfry.grpc.server.HealthService;
import dev.belfry.grpc.server.ServerLimits;
import dev.belfry.grpc.server.ServerMetrics;
import dev.belfry.grpc.test.EchoGrpc;
import dev.belfry.grpc.test.EchoReply;
import dev.belfry.grpc.test.EchoRequest;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's gRPC example, run as written (two servers on free loopback ports instead of 10.0.0.x:8443). */
@Timeout(60)
class ReadmeExampleTest {

    /** The README's {@code EchoService}: answers with the text. */
    static final class EchoService extends EchoGrpc.EchoImplBase {
        @Override
        public void say(EchoRequest request, StreamObserver<EchoReply> responses) {
            responses.onNext(EchoReply.newBuilder().setText(request.getText()).build());
            responses.onCompleted();
        }
    }

    @Test
    void theExampleCallsThroughTheWarmChannelAndHealthTakesAServerOut() throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        HealthService health = new HealthService();
        HealthService otherHealth = new HealthService();
        Server server = start(health, registry);
        Server other = start(otherHealth, registry);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (WarmGrpcChannel channel = WarmGrpcChannel.builder(
                        "echo",
                        AddressSource.of(List.of(
                                new InetSocketAddress(loopback, server.getPort()),
                                new InetSocketAddress(loopback, other.getPort()))))
                .metrics(registry)
                .build()) {
            EchoGrpc.EchoBlockingStub echo = EchoGrpc.newBlockingStub(channel);
            EchoReply reply = echo.withDeadlineAfter(2, TimeUnit.SECONDS)
                    .say(EchoRequest.newBuilder().setText("hello").build());
            assertThat(reply.getText()).isEqualTo("hello");

            health.setStatus("", false);
            // The channel keeps answering, from the other server.
            for (int i = 0; i < 10; i++) {
                assertThat(echo.withDeadlineAfter(2, TimeUnit.SECONDS)
                                .say(EchoRequest.newBuilder()
                                        .setText("still " + i)
                                        .build())
                                .getText())
                        .isEqualTo("still " + i);
            }

            ByteArrayOutputStream text = new ByteArrayOutputStream();
            PrometheusTextFormatWriter.create().write(text, registry.scrape());
            String exposition = text.toString(StandardCharsets.UTF_8);
            assertThat(exposition)
                    .contains("grpc_client_handled_total{channel=\"echo\",grpc_code=\"OK\",grpc_method=\"Say\","
                            + "grpc_service=\"belfry.test.Echo\"} 11.0")
                    .contains("grpc_server_started_total{grpc_method=\"Say\",grpc_service=\"belfry.test.Echo\"}");
        } finally {
            server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            other.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static Server start(HealthService health, PrometheusRegistry registry) throws Exception {
        return NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(ServerInterceptors.intercept(
                        new EchoService(),
                        ServerLimits.builder().concurrencyLimit(256).build(),
                        ServerMetrics.on(registry)))
                .addService(health.bindableService())
                .build()
                .start();
    }
}
