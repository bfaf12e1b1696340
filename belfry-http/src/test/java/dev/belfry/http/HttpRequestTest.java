package dev.belfry.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HttpRequestTest {
    private static final RequestAttribute<String> ROUTE = RequestAttribute.of("route", String.class);

    @Test
    void splitsTheTargetIntoPathAndQuery() {
        HttpRequest request = HttpRequest.get("/users/7?fields=name%20x&flag&a=1");

        assertThat(request.path()).isEqualTo("/users/7");
        assertThat(request.query()).isEqualTo("fields=name%20x&flag&a=1");
        assertThat(request.queryParam("fields")).isEqualTo("name x");
        assertThat(request.queryParam("flag")).isEmpty();
        assertThat(request.queryParam("missing")).isNull();
        assertThat(HttpRequest.get("/plain").query()).isNull();
    }

    @Test
    void aChangedCopyKeepsTheBodyAndLeavesTheOriginalAlone() {
        Body body = Body.of("hello");
        HttpRequest request = HttpRequest.post("/echo", body);

        HttpRequest copy = request.toBuilder().header("x-id", "1").build().withAttribute(ROUTE, "/echo");

        assertThat(copy.body()).isSameAs(body);
        assertThat(copy.header("X-Id")).isEqualTo("1");
        assertThat(copy.attribute(ROUTE)).isEqualTo("/echo");
        assertThat(request.header("x-id")).isNull();
        assertThat(request.attribute(ROUTE)).isNull();
    }

    @Test
    void rejectsATargetWithSpaces() {
        assertThatThrownBy(() -> HttpRequest.get("/a b"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("spaces");
    }

    @Test
    void responseHelpersSetTheContentType() {
        HttpResponse text = HttpResponse.text("hi");
        HttpResponse json = HttpResponse.json(java.util.Map.of("a", 1));

        assertThat(text.header("content-type")).isEqualTo(HttpResponse.TEXT_UTF8);
        assertThat(text.body().collectUtf8(10).join()).isEqualTo("hi");
        assertThat(json.header("content-type")).isEqualTo(HttpResponse.JSON);
        assertThat(json.body().collectUtf8(100).join()).isEqualTo("{\"a\":1}");
        assertThatThrownBy(() -> HttpResponse.of(42)).hasMessageContaining("three digits");
    }

    @Test
    void attributesKeepTheirLatestValueWhetherOneOrMany() {
        RequestAttribute<Integer> count = RequestAttribute.of("count", Integer.class);
        RequestAttribute<String> user = RequestAttribute.of("user", String.class);

        HttpRequest one = HttpRequest.builder(HttpMethod.GET, "/")
                .attribute(ROUTE, "/a")
                .attribute(ROUTE, "/b")
                .build();
        assertThat(one.attribute(ROUTE)).isEqualTo("/b");
        assertThat(one.attribute(count)).isNull();

        HttpRequest three = one.toBuilder()
                .attribute(count, 1)
                .attribute(user, "ann")
                .attribute(count, 2)
                .build();
        assertThat(three.attribute(ROUTE)).isEqualTo("/b");
        assertThat(three.attribute(count)).isEqualTo(2);
        assertThat(three.attribute(user)).isEqualTo("ann");
        assertThat(three.withTarget("/elsewhere").attribute(user)).isEqualTo("ann");
        assertThat(one.attribute(user)).as("the original is unchanged").isNull();
    }
}
