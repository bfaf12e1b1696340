package dev.belfry.http.timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class RequestTimeoutTest {
    private final MockService<HttpRequest, HttpResponse> inner = MockService.create();
    private final ManualClock clock = new ManualClock();

    private Service<HttpRequest, HttpResponse> timeout(RequestTimeoutLayer.Builder builder) {
        return builder.clock(clock).build().wrap(inner);
    }

    @Test
    void answers503AtTheLimitNotBeforeAndCancelsTheInnerCall() {
        Service<HttpRequest, HttpResponse> service = timeout(RequestTimeoutLayer.builder(Duration.ofSeconds(2)));
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.get("/slow"));
        var pending = inner.handle().next();

        clock.advance(Duration.ofSeconds(2).minusNanos(1));
        assertThat(result).isNotDone();
        clock.advance(Duration.ofNanos(1));

        assertThat(result.join().status()).isEqualTo(503);
        assertThat(result.join().body().collectUtf8(100).join()).isEqualTo("no response within 2000 ms\n");
        assertThat(pending.isCancelled()).isTrue();
    }

    @Test
    void answersTheStatusItWasGiven() {
        Service<HttpRequest, HttpResponse> service =
                timeout(RequestTimeoutLayer.builder(Duration.ofMillis(100)).status(504));
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.get("/slow"));
        inner.handle().next();

        clock.advanceMillis(100);

        assertThat(result.join().status()).isEqualTo(504);
    }

    @Test
    void aResponseInTimePassesThroughAndCancelsTheTimer() {
        Service<HttpRequest, HttpResponse> service = timeout(RequestTimeoutLayer.builder(Duration.ofSeconds(1)));
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.get("/"));
        HttpResponse ok = HttpResponse.text("ok");
        clock.advanceMillis(999);
        inner.handle().next().respond(ok);

        assertThat(result.join()).isSameAs(ok);
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void innerFailuresAndCancellationPassThrough() {
        Service<HttpRequest, HttpResponse> service = timeout(RequestTimeoutLayer.builder(Duration.ofSeconds(1)));
        CompletableFuture<HttpResponse> failed = service.call(HttpRequest.get("/"));
        IllegalStateException failure = new IllegalStateException("x");
        inner.handle().next().fail(failure);
        assertThat(failed.handle((r, f) -> f).join()).isSameAs(failure);

        CompletableFuture<HttpResponse> cancelled = service.call(HttpRequest.get("/"));
        var pending = inner.handle().next();
        cancelled.cancel(false);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void rejectsAStatusThatIsNotAnErrorAndASettingMadeTwice() {
        assertThatThrownBy(
                        () -> RequestTimeoutLayer.builder(Duration.ofSeconds(1)).status(200))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("4xx or 5xx");
        assertThatThrownBy(() -> RequestTimeoutLayer.builder(Duration.ofSeconds(1))
                        .status(503)
                        .status(504))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("status was already set");
        assertThatThrownBy(() -> RequestTimeoutLayer.of(Duration.ZERO))
                .hasMessageContaining("timeout must be positive");
    }
}
