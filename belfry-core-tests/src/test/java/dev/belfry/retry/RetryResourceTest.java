package dev.belfry.retry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.backoff.Backoff;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class RetryResourceTest {
    private final ManualClock clock = new ManualClock();
    private final MockService<String, Body> inner = MockService.create();

    /** A response holding a resource, like a pooled buffer or an open stream. */
    static final class Body implements AutoCloseable {
        final String status;
        final AtomicBoolean closed = new AtomicBoolean();

        Body(String status) {
            this.status = status;
        }

        @Override
        public void close() {
            closed.set(true);
        }
    }

    @Test
    void aResponseReplacedByARetryIsReleasedAndTheReturnedOneIsNot() {
        Service<String, Body> service = RetryLayer.of(
                        RetryPolicy.<String, Body>standard()
                                .idempotent(request -> true)
                                .retryOnResponse(body -> body.status.equals("503"))
                                .backoff(Backoff.constant(Duration.ofMillis(1)))
                                .build(),
                        clock)
                .wrap(inner);
        CompletableFuture<Body> result = service.call("GET /");
        Body unavailable = new Body("503");
        inner.handle().next().respond(unavailable);
        assertThat(unavailable.closed).as("discarded response released").isTrue();
        clock.advanceMillis(1);
        Body ok = new Body("200");
        inner.handle().next().respond(ok);
        assertThat(result).isCompletedWithValue(ok);
        assertThat(ok.closed).isFalse();
    }
}
