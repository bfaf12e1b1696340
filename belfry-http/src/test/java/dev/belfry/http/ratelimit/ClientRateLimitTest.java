package dev.belfry.http.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.Services;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.Chunks;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class ClientRateLimitTest {
    private final ManualClock clock = new ManualClock();
    private final AtomicInteger answered = new AtomicInteger();
    private final Service<HttpRequest, HttpResponse> ok = Services.of(request -> {
        answered.incrementAndGet();
        return CompletableFuture.completedFuture(HttpResponse.of(200));
    });

    /** Two requests per second per client, named by the x-client header. */
    private Service<HttpRequest, HttpResponse> limited(int maxClients) {
        return ClientRateLimitLayer.builder(2, Duration.ofSeconds(1))
                .key(request -> request.header("x-client"))
                .maxClients(maxClients)
                .clock(clock)
                .build()
                .wrap(ok);
    }

    private static HttpRequest from(String client) {
        return HttpRequest.builder(dev.belfry.http.HttpMethod.GET, "/users/1")
                .header("x-client", client)
                .build();
    }

    private static int status(Service<HttpRequest, HttpResponse> service, HttpRequest request) {
        return service.call(request).join().status();
    }

    @Test
    void aClientPastItsRateIsAnswered429WhileOthersGoOn() {
        Service<HttpRequest, HttpResponse> service = limited(100);

        assertThat(status(service, from("a"))).isEqualTo(200);
        assertThat(status(service, from("a"))).isEqualTo(200);
        HttpResponse refused = service.call(from("a")).join();
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.header("retry-after")).isEqualTo("1");
        assertThat(refused.body().collectUtf8(200).join()).isEqualTo("rate limit of 2 per 1s per client exceeded\n");
        assertThat(status(service, from("b")))
                .as("another client has its own bucket")
                .isEqualTo(200);
        assertThat(answered).hasValue(3);
    }

    @Test
    void aTokenArrivesExactlyPerOverRequestsLater() {
        Service<HttpRequest, HttpResponse> service = limited(100);
        status(service, from("a"));
        status(service, from("a"));

        clock.advance(Duration.ofMillis(500).minusNanos(1));
        assertThat(status(service, from("a"))).as("at t-1").isEqualTo(429);
        clock.advance(Duration.ofNanos(1));
        assertThat(status(service, from("a"))).as("at t").isEqualTo(200);
        assertThat(status(service, from("a"))).isEqualTo(429);
    }

    @Test
    void aRequestWithoutAKeyIsNotLimited() {
        Service<HttpRequest, HttpResponse> service = limited(100);
        for (int i = 0; i < 10; i++) {
            assertThat(status(service, HttpRequest.get("/live"))).isEqualTo(200);
        }
    }

    @Test
    void theLeastRecentlySeenClientIsForgottenPastMaxClients() {
        Service<HttpRequest, HttpResponse> service = limited(1);
        status(service, from("a"));
        status(service, from("a"));
        assertThat(status(service, from("a"))).isEqualTo(429);

        assertThat(status(service, from("b"))).isEqualTo(200); // a's bucket is forgotten
        assertThat(status(service, from("a")))
                .as("a starts again with a full bucket")
                .isEqualTo(200);
    }

    @Test
    void aRefusedRequestsBodyIsDiscardedAndTheInnerServiceNeverCalled() {
        MockService<HttpRequest, HttpResponse> inner = MockService.create();
        Service<HttpRequest, HttpResponse> service = ClientRateLimitLayer.builder(1, Duration.ofSeconds(1))
                .key(request -> "everyone")
                .clock(clock)
                .build()
                .wrap(inner);
        CompletableFuture<HttpResponse> first =
                service.call(HttpRequest.post("/users", Chunks.of("{}").body(2)));
        inner.handle().next().respond(HttpResponse.of(201));
        assertThat(first.join().status()).isEqualTo(201);

        Chunks chunks = Chunks.of("{\"name\":\"x\"}");
        HttpResponse refused =
                service.tryCall(HttpRequest.post("/users", chunks.body(12))).join();
        assertThat(refused.status()).isEqualTo(429);
        assertThat(chunks.cancelled()).isTrue();
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void theBuilderNeedsAKeyAndTakesEachSettingOnce() {
        assertThatThrownBy(() ->
                        ClientRateLimitLayer.builder(1, Duration.ofSeconds(1)).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("needs a key function");
        assertThatThrownBy(() -> ClientRateLimitLayer.builder(1, Duration.ofSeconds(1))
                        .maxClients(5)
                        .maxClients(6))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("maxClients was already set");
        assertThatThrownBy(() -> ClientRateLimitLayer.builder(0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
