package dev.belfry.http.cors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class CorsTest {
    private static final String APP = "https://app.example.com";
    private final MockService<HttpRequest, HttpResponse> inner = MockService.create();
    private final Service<HttpRequest, HttpResponse> service = CorsLayer.builder()
            .allowOrigins(APP)
            .allowMethods(HttpMethod.GET, HttpMethod.PUT)
            .allowHeaders("Content-Type", "authorization")
            .exposeHeaders("x-request-id")
            .maxAge(Duration.ofMinutes(10))
            .allowCredentials()
            .build()
            .wrap(inner);

    private static HttpRequest preflight(String origin) {
        return HttpRequest.builder(HttpMethod.OPTIONS, "/users/7")
                .header("origin", origin)
                .header("access-control-request-method", "PUT")
                .header("access-control-request-headers", "content-type")
                .build();
    }

    @Test
    void answersAPreflightFromAnAllowedOriginWithoutCallingTheHandler() {
        HttpResponse response = service.call(preflight(APP)).join();

        assertThat(response.status()).isEqualTo(204);
        assertThat(response.header("access-control-allow-origin")).isEqualTo(APP);
        assertThat(response.header("access-control-allow-credentials")).isEqualTo("true");
        assertThat(response.header("access-control-allow-methods")).isEqualTo("GET, PUT");
        assertThat(response.header("access-control-allow-headers")).isEqualTo("content-type, authorization");
        assertThat(response.header("access-control-max-age")).isEqualTo("600");
        assertThat(response.header("vary")).contains("origin", "access-control-request-method");
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void aDisallowedOriginGetsNoCorsHeadersOnPreflightOrResponse() {
        HttpResponse preflight = service.call(preflight("https://evil.example")).join();
        assertThat(preflight.headers().names()).noneMatch(n -> n.startsWith("access-control-"));

        CompletableFuture<HttpResponse> result = service.call(HttpRequest.builder(HttpMethod.GET, "/")
                .header("origin", "https://evil.example")
                .build());
        inner.handle().next().respond(HttpResponse.text("data"));
        HttpResponse response = result.join();
        assertThat(response.headers().names()).noneMatch(n -> n.startsWith("access-control-"));
        assertThat(response.headers().getAll("vary")).containsExactly("origin");
    }

    @Test
    void anAllowedOriginsResponseCarriesTheOriginCredentialsAndExposedHeaders() {
        CompletableFuture<HttpResponse> result = service.call(
                HttpRequest.builder(HttpMethod.GET, "/").header("origin", APP).build());
        inner.handle()
                .next()
                .respond(HttpResponse.status(200)
                        .header("vary", "accept-encoding")
                        .build());

        HttpResponse response = result.join();
        assertThat(response.header("access-control-allow-origin")).isEqualTo(APP);
        assertThat(response.header("access-control-allow-credentials")).isEqualTo("true");
        assertThat(response.header("access-control-expose-headers")).isEqualTo("x-request-id");
        assertThat(response.headers().getAll("vary")).containsExactly("accept-encoding", "origin");
    }

    @Test
    void anyOriginAnswersAStarAndMirrorsRequestedHeadersWhenAnyHeaderIsAllowed() {
        Service<HttpRequest, HttpResponse> open =
                CorsLayer.builder().allowAnyOrigin().allowAnyHeader().build().wrap(inner);

        HttpResponse response = open.call(preflight("https://anyone.example")).join();

        assertThat(response.header("access-control-allow-origin")).isEqualTo("*");
        assertThat(response.header("access-control-allow-headers")).isEqualTo("content-type");
        assertThat(response.header("access-control-allow-methods")).isEqualTo("GET, HEAD, POST");
        assertThat(response.header("access-control-max-age")).isNull();
        assertThat(response.header("access-control-allow-credentials")).isNull();
    }

    @Test
    void aPlainOptionsRequestIsNotAPreflightAndReachesTheHandler() {
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.builder(HttpMethod.OPTIONS, "/")
                .header("origin", APP)
                .build());

        inner.handle()
                .next()
                .respond(HttpResponse.status(200).header("allow", "GET").build());
        assertThat(result.join().header("allow")).isEqualTo("GET");
    }

    @Test
    void rejectsCredentialsWithAnyOriginAndMissingOrigins() {
        assertThatThrownBy(() ->
                        CorsLayer.builder().allowAnyOrigin().allowCredentials().build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("allowCredentials cannot be combined with allowAnyOrigin");
        assertThatThrownBy(() -> CorsLayer.builder().build()).hasMessageContaining("allowOrigins");
        assertThatThrownBy(() -> CorsLayer.builder().allowOrigins("https://a.example/"))
                .hasMessageContaining("scheme://host[:port]");
        assertThatThrownBy(() -> CorsLayer.builder().allowAnyOrigin().allowOrigins("https://a.example"))
                .hasMessageContaining("already set");
    }
}
