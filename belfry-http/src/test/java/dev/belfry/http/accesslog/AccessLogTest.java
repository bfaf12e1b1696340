package dev.belfry.http.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.belfry.Service;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.Chunks;
import dev.belfry.http.requestid.RequestId;
import dev.belfry.http.router.RouteMatch;
import dev.belfry.http.router.Router;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

@ExtendWith(VerifyAfterEach.class)
class AccessLogTest {
    private final MockService<HttpRequest, HttpResponse> inner = MockService.create();
    private final ManualClock clock = new ManualClock();
    private final ch.qos.logback.classic.Logger logger =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("test.access." + System.nanoTime());
    private final ch.qos.logback.core.read.ListAppender<ILoggingEvent> appender =
            new ch.qos.logback.core.read.ListAppender<>();

    AccessLogTest() {
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(appender);
    }

    private Service<HttpRequest, HttpResponse> service(AccessLogLayer.Builder builder) {
        return builder.logger(logger).clock(clock).build().wrap(inner);
    }

    private static HttpRequest routed(HttpRequest request, String template) {
        return request.toBuilder()
                .attribute(Router.ROUTE, new RouteMatch(template, Map.of()))
                .attribute(RequestId.ATTRIBUTE, "id-1")
                .build();
    }

    @Test
    void logsOnceWhenTheResponseBodyEndsWithCountedBytesAndTheDuration() {
        Service<HttpRequest, HttpResponse> service = service(AccessLogLayer.builder());
        CompletableFuture<HttpResponse> result = service.call(
                routed(HttpRequest.post("/users/7", Chunks.of("hello", "!").body()), "/users/{id}"));
        var pending = inner.handle().next();
        assertThat(pending.request().body().collectUtf8(100).join()).isEqualTo("hello!");
        clock.advanceMillis(12);
        pending.respond(
                HttpResponse.status(201).body(Chunks.of("abc", "defg").body()).build());

        HttpResponse response = result.join();
        assertThat(appender.list).as("nothing logged before the body ends").isEmpty();
        clock.advanceMillis(3);
        assertThat(response.body().collectUtf8(100).join()).isEqualTo("abcdefg");

        assertThat(appender.list).hasSize(1);
        ILoggingEvent event = appender.list.get(0);
        assertThat(event.getLevel()).isEqualTo(Level.INFO);
        assertThat(event.getFormattedMessage())
                .isEqualTo("method=POST path=/users/7 route=/users/{id} status=201 duration_ms=15.000 bytes_in=6"
                        + " bytes_out=7 request_id=id-1 outcome=complete");
        assertThat(event.getKeyValuePairs()).anyMatch(kv -> kv.key.equals("route") && kv.value.equals("/users/{id}"));
    }

    @Test
    void aRequestBodyHeldInMemoryStaysRepeatableAndCountsItsLength() {
        Service<HttpRequest, HttpResponse> service = service(AccessLogLayer.builder());
        dev.belfry.http.Body body = dev.belfry.http.Body.of("twelve bytes");
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.post("/retry", body));
        var pending = inner.handle().next();
        assertThat(pending.request().body()).isSameAs(body);
        pending.respond(HttpResponse.of(204));
        result.join().close();

        assertThat(appender.list.get(0).getFormattedMessage()).contains("bytes_in=12", "status=204");
    }

    @Test
    void aFailedFutureIsLoggedAtWarnWithTheStatusTheServerWillAnswer() {
        Service<HttpRequest, HttpResponse> service = service(AccessLogLayer.builder());
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.get("/boom"));
        inner.handle().next().fail(new IllegalStateException("x"));
        assertThat(result).isCompletedExceptionally();

        assertThat(appender.list).hasSize(1);
        assertThat(appender.list.get(0).getLevel()).isEqualTo(Level.WARN);
        assertThat(appender.list.get(0).getFormattedMessage())
                .contains("route=- status=500", "request_id=-", "outcome=failed");
    }

    @Test
    void aResponseBodyCancelledByTheClientIsLoggedAsCancelledWithTheBytesSent() {
        Service<HttpRequest, HttpResponse> service = service(AccessLogLayer.builder());
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.get("/stream"));
        inner.handle()
                .next()
                .respond(HttpResponse.status(200)
                        .body(Chunks.of("12345", "678").body())
                        .build());
        Flow.Subscription[] subscription = new Flow.Subscription[1];
        result.join().body().subscribeBuffers(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription[0] = s;
                s.request(1);
            }

            @Override
            public void onNext(io.netty.buffer.ByteBuf item) {
                item.release();
            }

            @Override
            public void onError(Throwable throwable) {}

            @Override
            public void onComplete() {}
        });
        subscription[0].cancel();

        assertThat(appender.list).hasSize(1);
        assertThat(appender.list.get(0).getFormattedMessage()).contains("bytes_out=5", "outcome=cancelled");
    }

    @Test
    void aHeadResponseDiscardedByTheServerCountsAsComplete() {
        Service<HttpRequest, HttpResponse> service = service(AccessLogLayer.builder());
        CompletableFuture<HttpResponse> result =
                service.call(HttpRequest.builder(HttpMethod.HEAD, "/").build());
        inner.handle().next().respond(HttpResponse.text("would be the body"));
        result.join().close(); // what the server does with a HEAD response's body

        assertThat(appender.list.get(0).getFormattedMessage()).contains("status=200", "outcome=complete");
    }

    @Test
    void redactsSensitiveHeadersWhenHeadersAreLogged() {
        Service<HttpRequest, HttpResponse> service =
                service(AccessLogLayer.builder().logHeaders().redact("X-Api-Key"));
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.builder(HttpMethod.GET, "/")
                .header("authorization", "Bearer secret-token")
                .header("cookie", "session=secret-cookie")
                .header("x-api-key", "secret-key")
                .header("accept", "text/plain")
                .build());
        inner.handle()
                .next()
                .respond(HttpResponse.status(200)
                        .header("set-cookie", "session=secret-new")
                        .build());
        result.join().body().collectBytes(10).join();

        String line = appender.list.get(0).getFormattedMessage();
        assertThat(line)
                .contains(
                        "authorization: [redacted]",
                        "cookie: [redacted]",
                        "x-api-key: [redacted]",
                        "accept: text/plain",
                        "response_headers=[set-cookie: [redacted]]")
                .doesNotContain("secret");
    }

    @Test
    void cancellationReachesTheInnerCallAndIsLogged() {
        Service<HttpRequest, HttpResponse> service = service(AccessLogLayer.builder());
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.get("/slow"));
        var pending = inner.handle().next();

        result.cancel(false);

        assertThat(pending.isCancelled()).isTrue();
        List<ILoggingEvent> events = appender.list;
        assertThat(events).hasSize(1);
        assertThat(events.get(0).getFormattedMessage()).contains("status=-", "outcome=cancelled");
    }
}
