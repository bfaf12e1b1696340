package dev.belfry.http.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.Body;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.server.FailureStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class RouterTest {
    record NewUser(String name) {}

    record User(int id, String name) {}

    private static Service<HttpRequest, HttpResponse> answer(String name) {
        return request -> {
            RouteMatch match = request.attribute(Router.ROUTE);
            return CompletableFuture.completedFuture(
                    HttpResponse.text(name + " " + (match == null ? "-" : match.template() + " " + match.params())));
        };
    }

    private static String text(HttpResponse response) {
        return response.status() + " " + response.body().collectUtf8(1 << 16).join();
    }

    private static String call(Router router, HttpMethod method, String target) {
        return text(router.call(HttpRequest.builder(method, target).build()).join());
    }

    @Test
    void matchesLiteralsParametersAndWildcardsMostSpecificFirst() {
        Router router = Router.builder()
                .get("/users/{id}", answer("one"))
                .get("/users/me", answer("me"))
                .get("/static/*", answer("static"))
                .get("/", answer("root"))
                .build();

        assertThat(call(router, HttpMethod.GET, "/users/7?x=1")).isEqualTo("200 one /users/{id} {id=7}");
        assertThat(call(router, HttpMethod.GET, "/users/me")).isEqualTo("200 me /users/me {}");
        assertThat(call(router, HttpMethod.GET, "/users/a%20b")).isEqualTo("200 one /users/{id} {id=a b}");
        assertThat(call(router, HttpMethod.GET, "/static/css/site.css"))
                .isEqualTo("200 static /static/* {*=css/site.css}");
        assertThat(call(router, HttpMethod.GET, "/")).isEqualTo("200 root / {}");
    }

    @Test
    void unknownPathsAre404AndWrongMethods405WithAllow() {
        Router router = Router.builder()
                .get("/users/{id}", answer("get"))
                .delete("/users/{id}", answer("delete"))
                .build();

        assertThat(call(router, HttpMethod.GET, "/nothing")).startsWith("404 ");
        assertThat(call(router, HttpMethod.GET, "/users/"))
                .as("an empty parameter does not match")
                .startsWith("404 ");
        HttpResponse response = router.call(
                        HttpRequest.builder(HttpMethod.POST, "/users/1").build())
                .join();
        assertThat(response.status()).isEqualTo(405);
        assertThat(response.header("allow")).isEqualTo("DELETE, GET, HEAD");
        assertThat(call(router, HttpMethod.HEAD, "/users/1"))
                .as("HEAD is served by GET")
                .startsWith("200 get");
    }

    @Test
    void nestedRoutersKeepTheirLayersInsideTheOuterOnesAndShowTheFullTemplate() {
        List<String> order = new ArrayList<>();
        Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> outer = tracing("outer", order);
        Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> inner = tracing("inner", order);
        Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> route = tracing("route", order);
        Router api = Router.builder()
                .route(HttpMethod.GET, "/users/{id}", route, answer("user"))
                .layer(inner)
                .build();
        Router app = Router.builder().nest("/api/v1", api).layer(outer).build();

        assertThat(call(app, HttpMethod.GET, "/api/v1/users/3")).isEqualTo("200 user /api/v1/users/{id} {id=3}");
        assertThat(order)
                .as("layers run after matching, outermost first, and see the template")
                .containsExactly("outer /api/v1/users/{id}", "inner /api/v1/users/{id}", "route /api/v1/users/{id}");
        assertThat(call(app, HttpMethod.GET, "/users/3")).startsWith("404");
    }

    private static Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> tracing(
            String name, List<String> order) {
        return inner -> request -> {
            RouteMatch match = request.attribute(Router.ROUTE);
            order.add(name + " " + (match == null ? "-" : match.template()));
            return inner.call(request);
        };
    }

    @Test
    void jsonInAndOut() {
        Router router = Router.builder()
                .post(
                        "/users",
                        JsonHandler.of(
                                NewUser.class,
                                (request, user) -> CompletableFuture.completedFuture(new User(1, user.name()))))
                .build();

        HttpResponse ok = router.call(HttpRequest.post("/users", Body.of("{\"name\":\"ada\"}")))
                .join();
        assertThat(ok.header("content-type")).isEqualTo(HttpResponse.JSON);
        assertThat(text(ok)).isEqualTo("200 {\"id\":1,\"name\":\"ada\"}");

        var bad = router.call(HttpRequest.post("/users", Body.of("{\"name\": ada}")));
        assertThat(bad).isCompletedExceptionally();
        HttpResponse mapped = FailureStatus.response(bad.handle((r, f) -> f).join());
        assertThat(text(mapped))
                .startsWith("400 bad request: malformed JSON body at line 1, column")
                .contains("'ada'");
    }

    @Test
    void rejectsBadPatternsAndDuplicateRoutesWhenBuilt() {
        assertThatThrownBy(() -> Router.builder().get("users", answer("x"))).hasMessageContaining("starts with '/'");
        assertThatThrownBy(() -> Router.builder().get("/a/*/b", answer("x"))).hasMessageContaining("last segment");
        assertThatThrownBy(() -> Router.builder().get("/a/{id}/{id}", answer("x")))
                .hasMessageContaining("twice");
        assertThatThrownBy(() -> Router.builder().get("/a/x{id}", answer("x"))).hasMessageContaining("is none");
        assertThatThrownBy(() -> Router.builder().get("/a", answer("x")).get("/a", answer("y")))
                .hasMessageContaining("already routed");
    }
}
