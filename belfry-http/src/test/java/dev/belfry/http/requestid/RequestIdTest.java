package dev.belfry.http.requestid;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class RequestIdTest {
    private final MockService<HttpRequest, HttpResponse> inner = MockService.create();
    private final AtomicInteger counter = new AtomicInteger();
    private final Service<HttpRequest, HttpResponse> service = RequestIdLayer.of(
                    "x-request-id", () -> "gen-" + counter.incrementAndGet())
            .wrap(inner);

    @Test
    void givesARequestWithoutAnIdANewOneAndCopiesItToTheResponse() {
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.get("/"));

        var pending = inner.handle().next();
        assertThat(pending.request().header("x-request-id")).isEqualTo("gen-1");
        assertThat(pending.request().attribute(RequestId.ATTRIBUTE)).isEqualTo("gen-1");
        pending.respond(HttpResponse.text("ok"));
        assertThat(result.join().header("x-request-id")).isEqualTo("gen-1");
    }

    @Test
    void keepsAUsableIncomingIdAndReplacesOneThatIsNot() {
        service.call(HttpRequest.builder(dev.belfry.http.HttpMethod.GET, "/")
                .header("X-Request-Id", "abc-123")
                .build());
        service.call(HttpRequest.builder(dev.belfry.http.HttpMethod.GET, "/")
                .header("x-request-id", "has space")
                .build());
        service.call(HttpRequest.builder(dev.belfry.http.HttpMethod.GET, "/")
                .header("x-request-id", "x".repeat(129))
                .build());

        var kept = inner.handle().next();
        var spaced = inner.handle().next();
        var tooLong = inner.handle().next();
        assertThat(kept.request().headers().getAll("x-request-id")).containsExactly("abc-123");
        assertThat(spaced.request().header("x-request-id")).isEqualTo("gen-1");
        assertThat(tooLong.request().header("x-request-id")).isEqualTo("gen-2");
        kept.respond(HttpResponse.of(204));
        spaced.respond(HttpResponse.of(204));
        tooLong.respond(HttpResponse.of(204));
    }

    @Test
    void leavesAResponseThatHasItsOwnIdAlone() {
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.get("/"));

        inner.handle()
                .next()
                .respond(HttpResponse.status(200).header("x-request-id", "mine").build());

        assertThat(result.join().headers().getAll("x-request-id")).containsExactly("mine");
    }

    @Test
    void passesFailuresThroughAndCancellationDown() {
        CompletableFuture<HttpResponse> failed = service.call(HttpRequest.get("/a"));
        IllegalStateException failure = new IllegalStateException("inner broke");
        inner.handle().next().fail(failure);
        assertThat(failed.handle((r, f) -> f).join()).isSameAs(failure);

        CompletableFuture<HttpResponse> cancelled = service.call(HttpRequest.get("/b"));
        var pending = inner.handle().next();
        cancelled.cancel(false);
        assertThat(pending.isCancelled()).isTrue();
    }
}
