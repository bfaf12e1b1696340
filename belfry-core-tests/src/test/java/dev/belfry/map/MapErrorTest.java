package dev.belfry.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.Services;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class MapErrorTest extends LayerContractTest {
    /** The failures a recording function has seen. */
    private final List<Throwable> seen = new ArrayList<>();

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return MapErrorLayer.<String, String>of(Function.identity()).wrap(inner);
    }

    /** Wraps every failure it sees in an {@link IllegalStateException}, recording what it saw. */
    private Service<String, String> recording(Service<String, String> inner) {
        return MapErrorLayer.<String, String>of(failure -> {
                    seen.add(failure);
                    return new IllegalStateException("translated", failure);
                })
                .wrap(inner);
    }

    @Test
    void callersSeeTheRewrittenFailure() {
        Service<String, String> service = recording(inner);
        CompletableFuture<String> result = service.call("ping");
        IOException failure = new IOException("connection reset");
        inner.handle().next().fail(failure);
        assertThat(failureOf(result))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("translated")
                .cause()
                .isSameAs(failure);
    }

    @Test
    void theFunctionReceivesTheUnwrappedFailure() {
        Service<String, String> service = recording(inner);
        IOException first = new IOException("first");
        IOException second = new IOException("second");
        CompletableFuture<String> a = service.call("a");
        CompletableFuture<String> b = service.call("b");
        inner.handle().next().fail(new CompletionException(first));
        inner.handle().next().fail(new CompletionException(new ExecutionException(second)));
        assertThat(seen).containsExactly(first, second);
        assertThat(failureOf(a)).cause().isSameAs(first);
        assertThat(failureOf(b)).cause().isSameAs(second);
    }

    @Test
    void responsesPassThroughWithoutTheFunction() {
        Service<String, String> service = recording(inner);
        CompletableFuture<String> result = service.call("ping");
        inner.handle().respondNext("pong");
        assertThat(result).isCompletedWithValue("pong");
        assertThat(seen).isEmpty();
    }

    @Test
    void theFunctionDoesNotSeeTheCallersCancellation() {
        Service<String, String> service = recording(inner);
        CompletableFuture<String> result = service.call("ping");
        MockService.Pending<String, String> pending = inner.handle().next();
        result.cancel(false);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(result.isCancelled()).isTrue();
        assertThat(seen).isEmpty();
    }

    @Test
    void theFunctionDoesNotSeeCancellationFromBelow() {
        CompletableFuture<String> below = new CompletableFuture<>();
        Service<String, String> service = recording(Services.of(request -> below));
        CompletableFuture<String> result = service.call("ping");
        below.cancel(false);
        assertThat(failureOf(result)).isInstanceOf(CancellationException.class);
        assertThat(seen).isEmpty();
    }

    @Test
    void theFunctionRewritesAFailureFromAnInnerServiceThatThrows() {
        UncheckedIOException thrown = new UncheckedIOException(new IOException("thrown, not returned"));
        Service<String, String> service = recording(request -> {
            throw thrown;
        });
        assertThat(failureOf(service.call("ping"))).cause().isSameAs(thrown);
        assertThat(seen).containsExactly(thrown);
    }

    @Test
    void aFunctionThatThrowsFailsTheCallWithThatException() {
        IllegalArgumentException broken = new IllegalArgumentException("mapper bug");
        Service<String, String> service = MapErrorLayer.<String, String>of(failure -> {
                    throw broken;
                })
                .wrap(inner);
        CompletableFuture<String> result = service.call("ping");
        inner.handle().next().fail(new IOException("original"));
        assertThat(failureOf(result)).isSameAs(broken);
    }

    @Test
    void aFunctionThatReturnsNullFailsTheCallWithANullPointerException() {
        Service<String, String> service =
                MapErrorLayer.<String, String>of(failure -> null).wrap(inner);
        CompletableFuture<String> result = service.call("ping");
        inner.handle().next().fail(new IOException("original"));
        assertThat(failureOf(result))
                .isInstanceOf(NullPointerException.class)
                .hasMessageEndingWith("returned a null failure");
    }

    @Test
    void tryCallRewritesTheAdmittedCallsFailure() {
        Service<String, String> service = recording(inner);
        inner.handle().allow(0);
        assertThat(service.tryCall("busy")).isNull();
        inner.handle().allow(1);
        CompletableFuture<String> result = service.tryCall("free");
        IOException failure = new IOException("reset");
        inner.handle().next().fail(failure);
        assertThat(failureOf(result)).cause().isSameAs(failure);
    }

    @Test
    void rejectsNullArgumentsNamingThem() {
        assertThatThrownBy(() -> MapErrorLayer.of(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("function must not be null");
        assertThatThrownBy(() -> new MapError<String, String>(null, Function.identity()))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inner must not be null");
        assertThatThrownBy(() -> new MapError<String, String>(inner, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("function must not be null");
    }
}
