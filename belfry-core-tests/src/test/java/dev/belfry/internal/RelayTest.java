package dev.belfry.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.limit.ConcurrencyLimit;
import dev.belfry.limit.Permits;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RelayTest {

    /** A response holding a resource: counts its closes. */
    static final class Response implements AutoCloseable {
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }

    @Test
    void relaysTheAnswerAndLeavesItOpen() {
        CompletableFuture<Response> source = new CompletableFuture<>();
        CompletableFuture<Response> relay = Relay.of(source);
        Response response = new Response();

        source.complete(response);

        assertThat(relay.join()).isSameAs(response);
        assertThat(response.closes).hasValue(0);
    }

    /**
     * A concurrency limit releases its permit before its caller sees the answer, so the next queued
     * call runs first, on this thread; when that call's success makes the first caller give up (a
     * hedge cancelling its losing attempt does exactly this), the first answer reaches nobody and
     * must be closed. Found by the composition contract test (Hedge over ConcurrencyLimit(1) over a
     * synchronous endpoint; seed 9675).
     */
    @Test
    void anAnswerThatArrivesAsTheCallerCancelsIsClosed() {
        CompletableFuture<Response> firstCall = new CompletableFuture<>();
        Response second = new Response();
        Service<String, Response> inner =
                request -> request.equals("first") ? firstCall : CompletableFuture.completedFuture(second);
        ConcurrencyLimit<String, Response> limit = new ConcurrencyLimit<>(inner, Permits.of(1));

        CompletableFuture<Response> first = limit.call("first"); // holds the permit
        CompletableFuture<Response> queued = limit.call("second"); // waits for it
        queued.thenRun(() -> first.cancel(false)); // the second answer wins: give up on the first
        Response answer = new Response();
        firstCall.complete(answer);

        assertThat(queued.join()).isSameAs(second);
        assertThat(first).isCancelled();
        assertThat(answer.closes)
                .as("the first answer, which reached no caller, is closed")
                .hasValue(1);
        assertThat(second.closes).hasValue(0);
        assertThat(limit.permits().available()).isEqualTo(1);
    }
}
