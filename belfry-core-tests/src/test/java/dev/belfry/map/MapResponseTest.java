package dev.belfry.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class MapResponseTest extends LayerContractTest {

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return MapResponseLayer.<String, String, String>of(Function.identity()).wrap(inner);
    }

    @Test
    void callersReceiveTheRewrittenResponse() {
        Service<String, Integer> service =
                MapResponseLayer.<String, String, Integer>of(String::length).wrap(inner);
        CompletableFuture<Integer> result = service.call("ping");
        inner.handle().respondNext("three");
        assertThat(result).isCompletedWithValue(5);
    }

    @Test
    void aFunctionThatThrowsFailsTheCallWithThatException() {
        IllegalStateException broken = new IllegalStateException("cannot decode");
        Service<String, String> service = MapResponseLayer.<String, String, String>of(response -> {
                    throw broken;
                })
                .wrap(inner);
        CompletableFuture<String> result = service.call("ping");
        inner.handle().respondNext("garbage");
        assertThat(failureOf(result)).isSameAs(broken);
    }

    @Test
    void failuresSkipTheFunction() {
        AtomicInteger applied = new AtomicInteger();
        Service<String, String> service = MapResponseLayer.<String, String, String>of(response -> {
                    applied.incrementAndGet();
                    return response;
                })
                .wrap(inner);
        CompletableFuture<String> result = service.call("ping");
        IllegalStateException failure = new IllegalStateException("inner broke");
        inner.handle().next().fail(failure);
        assertThat(failureOf(result)).isSameAs(failure);
        assertThat(applied).hasValue(0);
    }

    @Test
    void cancellingBeforeTheResponseCancelsInnerAndNeverAppliesTheFunction() {
        AtomicInteger applied = new AtomicInteger();
        Service<String, String> service = MapResponseLayer.<String, String, String>of(response -> {
                    applied.incrementAndGet();
                    return response;
                })
                .wrap(inner);
        CompletableFuture<String> result = service.call("ping");
        MockService.Pending<String, String> pending = inner.handle().next();
        result.cancel(true);
        assertThat(pending.isCancelled()).isTrue();
        assertThat(result.isCancelled()).isTrue();
        assertThat(applied).hasValue(0);
    }

    @Test
    void tryCallMapsTheAdmittedResponse() {
        Service<String, Integer> service =
                MapResponseLayer.<String, String, Integer>of(String::length).wrap(inner);
        inner.handle().allow(0);
        assertThat(service.tryCall("busy")).isNull();
        inner.handle().allow(1);
        CompletableFuture<Integer> result = service.tryCall("free");
        assertThat(inner.handle().respondNext("pong")).isEqualTo("free");
        assertThat(result).isCompletedWithValue(4);
    }

    @Test
    void anAlreadyAnsweredInnerCallIsMappedAtOnce() {
        Service<String, Integer> service = MapResponseLayer.<String, String, Integer>of(String::length)
                .wrap(request -> CompletableFuture.completedFuture(request + request));
        assertThat(service.call("ab")).isCompletedWithValue(4);
    }

    @Test
    void changesTheResponseTypeThroughTheBuilder() {
        Service<String, Integer> service = ServiceBuilder.<String, Integer>builder()
                .layer(MapResponseLayer.<String, String, Integer>of(Integer::parseInt))
                .service(inner);
        CompletableFuture<Integer> result = service.call("answer");
        inner.handle().respondNext("42");
        assertThat(result).isCompletedWithValue(42);
    }

    @Test
    void rejectsNullArgumentsNamingThem() {
        assertThatThrownBy(() -> MapResponseLayer.of(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("function must not be null");
        assertThatThrownBy(() -> new MapResponse<String, String, String>(null, Function.identity()))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inner must not be null");
        assertThatThrownBy(() -> new MapResponse<String, String, String>(inner, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("function must not be null");
    }
}
