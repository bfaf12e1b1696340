package dev.belfry.http.headers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class SetHeadersTest {
    private final MockService<HttpRequest, HttpResponse> inner = MockService.create();

    private static HttpRequest request(String... headers) {
        HttpRequest.Builder b = HttpRequest.builder(HttpMethod.GET, "/");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b.build();
    }

    @Test
    void setsAppendsAndSetsIfAbsentOnTheRequest() {
        Service<HttpRequest, HttpResponse> service = SetHeadersLayer.builder()
                .setRequest("X-Set", "new")
                .appendRequest("x-append", "second")
                .setRequestIfAbsent("x-absent", "default")
                .setRequestIfAbsent("x-present", "ignored")
                .setRequest("x-computed", r -> r.path() + "!")
                .build()
                .wrap(inner);

        service.call(request("x-set", "old", "x-set", "older", "x-append", "first", "x-present", "mine"));

        var pending = inner.handle().next();
        var headers = pending.request().headers();
        assertThat(headers.getAll("x-set")).containsExactly("new");
        assertThat(headers.getAll("x-append")).containsExactly("first", "second");
        assertThat(headers.getAll("x-absent")).containsExactly("default");
        assertThat(headers.getAll("x-present")).containsExactly("mine");
        assertThat(headers.getAll("x-computed")).containsExactly("/!");
        pending.respond(HttpResponse.of(204));
    }

    @Test
    void setsAppendsAndSetsIfAbsentOnTheResponseAndPropagatesRequestHeaders() {
        Service<HttpRequest, HttpResponse> service = SetHeadersLayer.builder()
                .setResponse("cache-control", "no-store")
                .appendResponse("via", "belfry")
                .setResponseIfAbsent("content-type", "application/json")
                .setResponse("x-status", r -> Integer.toString(r.status()))
                .propagate("x-correlation-id")
                .propagate("x-kept")
                .build()
                .wrap(inner);

        CompletableFuture<HttpResponse> result =
                service.call(request("x-correlation-id", "c1", "x-correlation-id", "c2", "x-kept", "from request"));
        inner.handle()
                .next()
                .respond(HttpResponse.status(201)
                        .header("cache-control", "max-age=60")
                        .header("via", "origin")
                        .header("content-type", "text/plain")
                        .header("x-kept", "from response")
                        .build());

        var headers = result.join().headers();
        assertThat(headers.getAll("cache-control")).containsExactly("no-store");
        assertThat(headers.getAll("via")).containsExactly("origin", "belfry");
        assertThat(headers.getAll("content-type")).containsExactly("text/plain");
        assertThat(headers.getAll("x-status")).containsExactly("201");
        assertThat(headers.getAll("x-correlation-id")).containsExactly("c1", "c2");
        assertThat(headers.getAll("x-kept")).containsExactly("from response");
    }

    @Test
    void rejectsBadNamesAndValuesWhenBuilt() {
        assertThatThrownBy(() -> SetHeadersLayer.builder().setRequest("bad name", "v"))
                .hasMessageContaining("header name must be a token");
        assertThatThrownBy(() -> SetHeadersLayer.builder().setResponse("x-a", "line\r\nbreak"))
                .hasMessageContaining("must not contain CR, LF or NUL");
    }

    @Test
    void passesFailuresAndCancellationThrough() {
        Service<HttpRequest, HttpResponse> service =
                SetHeadersLayer.builder().setResponse("x", "y").build().wrap(inner);
        CompletableFuture<HttpResponse> failed = service.call(request());
        IllegalStateException failure = new IllegalStateException("x");
        inner.handle().next().fail(failure);
        assertThat(failed.handle((r, f) -> f).join()).isSameAs(failure);

        CompletableFuture<HttpResponse> cancelled = service.call(request());
        var pending = inner.handle().next();
        cancelled.cancel(false);
        assertThat(pending.isCancelled()).isTrue();
    }
}
