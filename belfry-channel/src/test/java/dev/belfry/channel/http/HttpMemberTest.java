package dev.belfry.channel.http;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.belfry.Readiness;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.client.HttpClient;
import dev.belfry.http.client.Protocol;
import dev.belfry.reconnect.ConnectFailedException;
import dev.belfry.test.NoNettyLeaks;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** One HTTP member over a real connection to a belfry-http server on loopback. */
@ExtendWith(NoNettyLeaks.class)
@Timeout(30)
class HttpMemberTest {
    private static final HttpMember.HealthRequest READY = new HttpMember.HealthRequest("/ready", 200, null, true);

    private final Backend backend = Backend.start("a");
    private final AtomicInteger clientsClosed = new AtomicInteger();
    private HttpClient client = HttpClient.builder("127.0.0.1", 1).build();

    @AfterEach
    void closeEverything() {
        client.close();
        backend.close();
    }

    private HttpMember connect(Protocol protocol) throws Exception {
        client.close();
        client = HttpClient.builder("127.0.0.1", backend.address().getPort())
                .protocol(protocol)
                .build();
        return HttpMember.connect(backend.address(), client, READY, clientsClosed::incrementAndGet)
                .toCompletableFuture()
                .get(5, SECONDS);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void closingWaitsForTheResponseBodyInFlightThenClosesTheClient(Protocol protocol) throws Exception {
        HttpMember member = connect(protocol);
        HttpResponse response = member.call(HttpRequest.get("/who")).get(5, SECONDS);

        member.close();
        // The pool drained the member, but the caller still reads the body it was given.
        assertThat(member.readiness()).isEqualTo(Readiness.CLOSED);
        assertThat(clientsClosed).hasValue(0);
        assertThat(client.readiness()).isNotEqualTo(Readiness.CLOSED);

        assertThat(response.body().collectUtf8(1024).get(5, SECONDS)).isEqualTo("a");
        assertThat(clientsClosed).hasValue(1);
        assertThat(client.readiness()).isEqualTo(Readiness.CLOSED);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void aProbeIsHealthyOnTheExpectedStatusAndSaysWhatItGotOtherwise(Protocol protocol) throws Exception {
        HttpMember member = connect(protocol);
        assertThat(member.checkHealth().toCompletableFuture().get(5, SECONDS)).isNull();

        backend.ready.set(false);
        assertThatThrownBy(() -> member.checkHealth().toCompletableFuture().get(5, SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(UnhealthyStatusException.class)
                .hasMessage("health check GET /ready answered 503, expected 200");
        assertThat(member.closed().toCompletableFuture()).isNotDone();
        member.close();
        assertThat(clientsClosed).hasValue(1);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void aConnectThatFailsAfterTheServerDiedMakesTheMemberGone(Protocol protocol) throws Exception {
        HttpMember member = connect(protocol);
        backend.kill();

        // Whatever the next probes meet first (the closed connection), a reconnect is refused.
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            member.checkHealth()
                    .toCompletableFuture()
                    .handle((ok, failure) -> null)
                    .get(5, SECONDS);
            return member.closed().toCompletableFuture().isDone();
        });
        assertThat(member.closed().toCompletableFuture())
                .failsWithin(Duration.ZERO)
                .withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(ConnectFailedException.class);
        assertThat(member.readiness()).isEqualTo(Readiness.CLOSED);
        assertThat(member.tryCall(HttpRequest.get("/who"))).isNull();
        member.close();
        assertThat(clientsClosed).hasValue(1);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void connectingToAnAddressNobodyListensOnFailsWithTheConnectError(Protocol protocol) throws Exception {
        int port = backend.address().getPort();
        backend.kill();
        client.close();
        client = HttpClient.builder("127.0.0.1", port).protocol(protocol).build();

        assertThatThrownBy(() -> HttpMember.connect(backend.address(), client, READY, clientsClosed::incrementAndGet)
                        .toCompletableFuture()
                        .get(5, SECONDS))
                .cause()
                .isInstanceOf(ConnectFailedException.class)
                .hasMessageContaining("Connection refused");
        assertThat(clientsClosed).hasValue(1);
    }
}
