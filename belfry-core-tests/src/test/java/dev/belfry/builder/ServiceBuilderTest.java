package dev.belfry.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class ServiceBuilderTest {
    private final MockService<String, String> inner = MockService.create();

    /** What the recording layers saw, in order: "name>" on the way in, "name<" on the way out. */
    private final List<String> events = new ArrayList<>();

    /** A layer that records requests and responses passing it and tags both with its name. */
    private Layer<String, String, String, String> recording(String name) {
        return service -> request -> {
            events.add(name + ">");
            return service.call(request + "/" + name).thenApply(response -> {
                events.add(name + "<");
                return response + "/" + name;
            });
        };
    }

    @Test
    void theFirstLayerAddedIsOutermostAndSeesTheRequestFirst() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .layer(recording("a"))
                .layer(recording("b"))
                .service(inner);
        CompletableFuture<String> result = service.call("req");
        assertThat(inner.handle().respondNext("res")).isEqualTo("req/a/b");
        assertThat(result).isCompletedWithValue("res/b/a");
        assertThat(events).containsExactly("a>", "b>", "b<", "a<");
    }

    @Test
    void anEmptyBuilderReturnsTheInnerServiceItself() {
        assertThat(ServiceBuilder.<String, String>builder().service(inner)).isSameAs(inner);
    }

    @Test
    void buildersAreImmutableAndAPartialStackCanBeSharedAndExtended() {
        ServiceBuilder<String, String, String, String> base =
                ServiceBuilder.<String, String>builder().layer(recording("base"));
        ServiceBuilder<String, String, String, String> withX = base.layer(recording("x"));
        ServiceBuilder<String, String, String, String> withY = base.layer(recording("y"));
        assertThat(withX).isNotSameAs(base).isNotSameAs(withY);

        base.service(inner).call("1");
        withX.service(inner).call("2");
        withY.service(inner).call("3");
        assertThat(inner.handle().respondNext("r")).isEqualTo("1/base");
        assertThat(inner.handle().respondNext("r")).isEqualTo("2/base/x");
        assertThat(inner.handle().respondNext("r")).isEqualTo("3/base/y");
    }

    @Test
    void aBuilderCanBuildManyServices() {
        ServiceBuilder<String, String, String, String> builder =
                ServiceBuilder.<String, String>builder().layer(recording("a"));
        MockService<String, String> other = MockService.create();
        Service<String, String> first = builder.service(inner);
        Service<String, String> second = builder.service(other);
        assertThat(first).isNotSameAs(second);
        CompletableFuture<String> one = first.call("1");
        CompletableFuture<String> two = second.call("2");
        assertThat(inner.handle().respondNext("x")).isEqualTo("1/a");
        assertThat(other.handle().respondNext("y")).isEqualTo("2/a");
        assertThat(one).isCompletedWithValue("x/a");
        assertThat(two).isCompletedWithValue("y/a");
        other.verify();
    }

    @Test
    void toLayerIsTheWholeStackInTheSameOrder() {
        Layer<String, String, String, String> stack = ServiceBuilder.<String, String>builder()
                .layer(recording("a"))
                .layer(recording("b"))
                .toLayer();
        CompletableFuture<String> result = ServiceBuilder.<String, String>builder()
                .layer(recording("outer"))
                .layer(stack)
                .service(inner)
                .call("req");
        assertThat(inner.handle().respondNext("res")).isEqualTo("req/outer/a/b");
        assertThat(result).isCompletedWithValue("res/b/a/outer");
    }

    @Test
    void layersMayChangeTheTypesOnTheWayIn() {
        Layer<Integer, Integer, String, String> translate =
                service -> request -> service.call(Integer.toString(request)).thenApply(Integer::parseInt);
        Service<Integer, Integer> service =
                ServiceBuilder.<Integer, Integer>builder().layer(translate).service(inner);
        CompletableFuture<Integer> result = service.call(41);
        assertThat(inner.handle().respondNext("42")).isEqualTo("41");
        assertThat(result).isCompletedWithValue(42);
    }

    @Test
    void layerThenAppliesTheOuterLayerFirstAndIdentityAddsNothing() {
        Layer<String, String, String, String> stacked =
                recording("a").then(Layer.identity()).then(recording("b"));
        CompletableFuture<String> result = stacked.wrap(inner).call("req");
        assertThat(inner.handle().respondNext("res")).isEqualTo("req/a/b");
        assertThat(result).isCompletedWithValue("res/b/a");
        assertThat(Layer.<String, String>identity().wrap(inner)).isSameAs(inner);
    }

    @Test
    void rejectsNullArgumentsNamingThem() {
        ServiceBuilder<String, String, String, String> builder = ServiceBuilder.builder();
        assertThatThrownBy(() -> builder.layer(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("layer must not be null");
        assertThatThrownBy(() -> builder.service(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inner must not be null");
        assertThatThrownBy(() -> Layer.<String, String>identity().then(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inside must not be null");
    }
}
