package dev.belfry.http.catchpanic;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.belfry.OverloadedException;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.requestid.RequestId;
import dev.belfry.http.testing.LogCapture;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class CatchPanicTest {
    private final MockService<HttpRequest, HttpResponse> inner = MockService.create();
    private final LogCapture log = LogCapture.of(CatchPanic.class);
    private final HttpRequest request = HttpRequest.get("/users/7").withAttribute(RequestId.ATTRIBUTE, "req-42");

    @AfterEach
    void stopCapturing() {
        log.close();
    }

    @Test
    void aFailedFutureBecomesA500WithoutTheMessageAndIsLoggedOnceWithTheRequestId() {
        CompletableFuture<HttpResponse> result =
                CatchPanicLayer.create().wrap(inner).call(request);
        inner.handle().next().fail(new IllegalStateException("secret table users_v2 is gone"));

        HttpResponse response = result.join();
        assertThat(response.status()).isEqualTo(500);
        String body = response.body().collectUtf8(1000).join();
        assertThat(body).isEqualTo("internal server error\n").doesNotContain("secret");
        List<ILoggingEvent> events = log.events();
        assertThat(events).hasSize(1);
        assertThat(events.get(0).getLevel()).isEqualTo(Level.ERROR);
        assertThat(events.get(0).getFormattedMessage()).contains("GET /users/7", "req-42");
        assertThat(events.get(0).getThrowableProxy().getMessage()).isEqualTo("secret table users_v2 is gone");
    }

    @Test
    void anExceptionThrownFromCallBecomesA500() {
        Service<HttpRequest, HttpResponse> throwing = r -> {
            throw new UnsupportedOperationException("boom");
        };

        HttpResponse response =
                CatchPanicLayer.create().wrap(throwing).call(request).join();

        assertThat(response.status()).isEqualTo(500);
        assertThat(log.events()).hasSize(1);
    }

    @Test
    void anErrorIsCaughtToo() {
        Service<HttpRequest, HttpResponse> failing = r -> CompletableFuture.failedFuture(new StackOverflowError());

        assertThat(CatchPanicLayer.create().wrap(failing).call(request).join().status())
                .isEqualTo(500);
    }

    @Test
    void serviceExceptionsAndCancellationPassThroughForTheServerToMap() {
        Service<HttpRequest, HttpResponse> service = CatchPanicLayer.create().wrap(inner);
        CompletableFuture<HttpResponse> overloaded = service.call(request);
        OverloadedException failure = new OverloadedException("full");
        inner.handle().next().fail(failure);
        assertThat(overloaded.handle((r, f) -> f).join()).isSameAs(failure);

        CompletableFuture<HttpResponse> cancelled = service.call(request);
        var pending = inner.handle().next();
        cancelled.cancel(false);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(log.events()).isEmpty();
    }

    @Test
    void aCustomResponderShapesTheAnswerAndAThrowingOneFallsBackTo500() {
        Service<HttpRequest, HttpResponse> failing =
                r -> CompletableFuture.failedFuture(new IllegalStateException("x"));

        HttpResponse custom = CatchPanicLayer.of(f -> HttpResponse.status(503).build())
                .wrap(failing)
                .call(request)
                .join();
        HttpResponse fallback = CatchPanicLayer.of(f -> {
                    throw new IllegalArgumentException("responder broke");
                })
                .wrap(failing)
                .call(request)
                .join();

        assertThat(custom.status()).isEqualTo(503);
        assertThat(fallback.status()).isEqualTo(500);
    }

    @Test
    void responsesPassThroughUntouched() {
        CompletableFuture<HttpResponse> result =
                CatchPanicLayer.create().wrap(inner).call(request);
        HttpResponse ok = HttpResponse.text("fine");
        inner.handle().next().respond(ok);

        assertThat(result.join()).isSameAs(ok);
    }
}
