package dev.belfry.http.normalizepath;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.RequestAttribute;
import dev.belfry.http.router.Router;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NormalizePathTest {
    @ParameterizedTest
    @CsvSource({
        "/, /",
        "//, /",
        "/users/, /users",
        "/users//, /users",
        "//api///users/7, /api/users/7",
        "/api/users/7, /api/users/7",
        "/a/b/?x=1//, /a/b?x=1//",
        "/a//b?q=/c//d, /a/b?q=/c//d",
    })
    void mergesSlashesAndTrimsTheTrailingOneKeepingTheQuery(String target, String expected) {
        Service<HttpRequest, HttpResponse> echo = r -> CompletableFuture.completedFuture(HttpResponse.text(r.target()));
        Service<HttpRequest, HttpResponse> service = NormalizePathLayer.create().wrap(echo);

        assertThat(service.call(HttpRequest.get(target))
                        .join()
                        .body()
                        .collectUtf8(100)
                        .join())
                .isEqualTo(expected);
    }

    @Test
    void eachModeDoesOnlyItsPart() {
        assertThat(NormalizePath.normalize("//a//b/", false, true)).isEqualTo("//a//b");
        assertThat(NormalizePath.normalize("//a//b/", true, false)).isEqualTo("/a/b/");
    }

    @Test
    void runsBeforeTheRouterSoTheRouteMatchesAndAttributesSurvive() {
        RequestAttribute<String> tag = RequestAttribute.of("tag", String.class);
        Router router = Router.builder()
                .get(
                        "/users/{id}",
                        r -> CompletableFuture.completedFuture(
                                HttpResponse.text(Router.param(r, "id") + " " + r.attribute(tag))))
                .build();
        Service<HttpRequest, HttpResponse> service = NormalizePathLayer.create().wrap(router);

        HttpResponse response = service.call(HttpRequest.get("//users//7/").withAttribute(tag, "kept"))
                .join();

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.body().collectUtf8(100).join()).isEqualTo("7 kept");
    }
}
