package dev.belfry.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class MapRequestTest extends LayerContractTest {
    private final MockService<Integer, String> numbers = MockService.create();

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return MapRequestLayer.<String, String, String>of(Function.identity()).wrap(inner);
    }

    @Test
    void innerReceivesTheRewrittenRequest() {
        Service<String, String> service =
                MapRequestLayer.<String, Integer, String>of(String::length).wrap(numbers);
        CompletableFuture<String> result = service.call("four");
        assertThat(numbers.handle().respondNext("ok")).isEqualTo(4);
        assertThat(result).isCompletedWithValue("ok");
    }

    @Test
    void aFunctionThatThrowsFailsTheCallAndNothingReachesInner() {
        IllegalArgumentException broken = new IllegalArgumentException("bad request");
        Service<String, String> service = MapRequestLayer.<String, String, String>of(request -> {
                    throw broken;
                })
                .wrap(inner);
        assertThat(failureOf(service.call("ping"))).isSameAs(broken);
        CompletableFuture<String> tried = service.tryCall("ping");
        assertThat(tried)
                .as("a broken function is an answer, not a lack of capacity")
                .isNotNull();
        assertThat(failureOf(tried)).isSameAs(broken);
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void tryCallOffersTheRewrittenRequestToTheInnerTryCall() {
        Service<String, String> service = MapRequestLayer.<String, String, String>of(request -> request + "!")
                .wrap(inner);
        inner.handle().allow(0);
        assertThat(service.tryCall("busy")).isNull();
        inner.handle().allow(1);
        CompletableFuture<String> result = service.tryCall("free");
        assertThat(inner.handle().respondNext("pong")).isEqualTo("free!");
        assertThat(result).isCompletedWithValue("pong");
    }

    @Test
    void layersAfterItSeeTheRewrittenRequest() {
        Service<Integer, String> service = ServiceBuilder.<Integer, String>builder()
                .layer(MapRequestLayer.<Integer, String, String>of(number -> "#" + number))
                .layer(MapRequestLayer.<String, String, String>of(text -> text + "!"))
                .service(inner);
        CompletableFuture<String> result = service.call(7);
        assertThat(inner.handle().respondNext("seven")).isEqualTo("#7!");
        assertThat(result).isCompletedWithValue("seven");
    }

    @Test
    void rejectsNullArgumentsNamingThem() {
        assertThatThrownBy(() -> MapRequestLayer.of(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("function must not be null");
        assertThatThrownBy(() -> new MapRequest<String, String, String>(null, Function.identity()))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inner must not be null");
        assertThatThrownBy(() -> new MapRequest<String, String, String>(inner, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("function must not be null");
    }
}
