package dev.belfry.http.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.http.BodyTooLargeException;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.Chunks;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class RequestBodyLimitTest {
    private final MockService<HttpRequest, HttpResponse> inner = MockService.create();
    private final Service<HttpRequest, HttpResponse> service =
            RequestBodyLimitLayer.of(10).wrap(inner);

    @Test
    void aDeclaredLengthAboveTheLimitIsAnswered413BeforeTheHandler() {
        Chunks chunks = Chunks.of("0123456789", "x");

        HttpResponse response =
                service.call(HttpRequest.post("/upload", chunks.body(11))).join();

        assertThat(response.status()).isEqualTo(413);
        assertThat(response.body().collectUtf8(200).join()).contains("limit of 10 bytes");
        assertThat(chunks.cancelled()).as("body discarded").isTrue();
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void aDeclaredLengthAtTheLimitPassesUntouched() {
        Chunks chunks = Chunks.of("0123456789");
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.post("/upload", chunks.body(10)));

        var pending = inner.handle().next();
        assertThat(pending.request().body().collectUtf8(100).join()).isEqualTo("0123456789");
        pending.respond(HttpResponse.of(204));
        assertThat(result.join().status()).isEqualTo(204);
    }

    @Test
    void aStreamedBodyFailsAsSoonAsItPassesTheLimit() {
        Chunks chunks = Chunks.of("01234", "56789", "x", "never sent");
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.post("/upload", chunks.body()));

        var pending = inner.handle().next();
        Throwable failure =
                pending.request().body().collectBytes(1000).handle((b, f) -> f).join();
        assertThat(failure).isInstanceOf(BodyTooLargeException.class);
        assertThat(((BodyTooLargeException) failure).limit()).isEqualTo(10);
        assertThat(chunks.emitted()).isEqualTo(3);
        assertThat(chunks.cancelled()).isTrue();
        pending.fail(failure);
        assertThat(result.handle((r, f) -> f).join()).isSameAs(failure);
    }

    @Test
    void aStreamedBodyWithinTheLimitArrivesWhole() {
        CompletableFuture<HttpResponse> result = service.call(
                HttpRequest.post("/upload", Chunks.of("01234", "56789").body()));

        var pending = inner.handle().next();
        assertThat(pending.request().body().collectUtf8(100).join()).isEqualTo("0123456789");
        pending.respond(HttpResponse.of(204));
        assertThat(result.join().status()).isEqualTo(204);
    }
}
