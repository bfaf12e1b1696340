package dev.belfry.http.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.internal.body.Chunks;
import dev.belfry.test.MockService;
import dev.belfry.test.VerifyAfterEach;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VerifyAfterEach.class)
class AuthTest {
    private final MockService<HttpRequest, HttpResponse> inner = MockService.create();

    private static HttpRequest withAuthorization(String value) {
        return HttpRequest.builder(HttpMethod.GET, "/admin")
                .header("authorization", value)
                .build();
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aKnownBearerTokenPassesWithItsPrincipal() {
        Service<HttpRequest, HttpResponse> service =
                AuthLayer.bearer(Map.of("t0k3n", "ci", "other", "ops")).wrap(inner);

        CompletableFuture<HttpResponse> result = service.call(withAuthorization("bearer t0k3n"));

        var pending = inner.handle().next();
        assertThat(pending.request().attribute(AuthLayer.PRINCIPAL).getName()).isEqualTo("ci");
        pending.respond(HttpResponse.of(204));
        assertThat(result.join().status()).isEqualTo(204);
    }

    @Test
    void aMissingWrongOrPrefixOfATokenIs401WithTheChallengeAndTheBodyIsDiscarded() {
        Service<HttpRequest, HttpResponse> service =
                AuthLayer.bearer(Map.of("t0k3n", "ci")).wrap(inner);
        Chunks upload = Chunks.of("payload");

        HttpResponse none =
                service.call(HttpRequest.post("/admin", upload.body())).join();
        HttpResponse wrong = service.call(withAuthorization("Bearer t0k3m")).join();
        HttpResponse prefix = service.call(withAuthorization("Bearer t0k")).join();
        HttpResponse otherScheme =
                service.call(withAuthorization("Token t0k3n")).join();

        for (HttpResponse response : new HttpResponse[] {none, wrong, prefix, otherScheme}) {
            assertThat(response.status()).isEqualTo(401);
            assertThat(response.header("www-authenticate")).isEqualTo("Bearer");
        }
        assertThat(upload.cancelled()).isTrue();
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void basicChecksUserAndPasswordTogether() {
        Service<HttpRequest, HttpResponse> service = AuthLayer.basic(
                        "admin", Map.of("alice", "correct horse", "bob", "battery"))
                .wrap(inner);

        CompletableFuture<HttpResponse> ok = service.call(withAuthorization(basic("alice", "correct horse")));
        var pending = inner.handle().next();
        assertThat(pending.request().attribute(AuthLayer.PRINCIPAL).getName()).isEqualTo("alice");
        pending.respond(HttpResponse.of(200));
        assertThat(ok.join().status()).isEqualTo(200);

        HttpResponse swapped =
                service.call(withAuthorization(basic("alice", "battery"))).join();
        HttpResponse garbage =
                service.call(withAuthorization("Basic !!!not-base64")).join();
        assertThat(swapped.status()).isEqualTo(401);
        assertThat(swapped.header("www-authenticate")).isEqualTo("Basic realm=\"admin\", charset=\"UTF-8\"");
        assertThat(garbage.status()).isEqualTo(401);
    }

    @Test
    void anAsynchronousAuthorizerDecidesLaterAndCanAnswerItself() {
        CompletableFuture<AuthDecision> decision = new CompletableFuture<>();
        Service<HttpRequest, HttpResponse> service =
                AuthLayer.of(request -> decision, "Bearer realm=\"api\"").wrap(inner);

        CompletableFuture<HttpResponse> result = service.call(HttpRequest.get("/"));
        assertThat(result).isNotDone();
        inner.handle().assertNoMoreRequests();
        decision.complete(
                AuthDecision.respond(HttpResponse.status(403).text("forbidden").build()));

        assertThat(result.join().status()).isEqualTo(403);
    }

    @Test
    void anAuthorizerFailurePassesThroughAndCancellingWhileDecidingCancelsTheDecision() {
        IllegalStateException down = new IllegalStateException("identity service down");
        Service<HttpRequest, HttpResponse> failing = AuthLayer.of(
                        request -> CompletableFuture.failedFuture(down), "Bearer")
                .wrap(inner);
        assertThat(failing.call(HttpRequest.get("/")).handle((r, f) -> f).join())
                .isSameAs(down);

        CompletableFuture<AuthDecision> decision = new CompletableFuture<>();
        Service<HttpRequest, HttpResponse> slow =
                AuthLayer.of(request -> decision, "Bearer").wrap(inner);
        CompletableFuture<HttpResponse> result = slow.call(HttpRequest.get("/"));
        result.cancel(false);
        assertThat(decision.isCancelled()).isTrue();
        inner.handle().assertNoMoreRequests();
    }

    @Test
    void cancellingAfterTheDecisionCancelsTheInnerCall() {
        Service<HttpRequest, HttpResponse> service = AuthLayer.of(
                        request -> CompletableFuture.completedFuture(AuthDecision.allow()), "Bearer")
                .wrap(inner);
        CompletableFuture<HttpResponse> result = service.call(HttpRequest.get("/"));
        var pending = inner.handle().next();

        result.cancel(false);

        assertThat(pending.isCancelled()).isTrue();
    }

    @Test
    void rejectsEmptyCredentialSetsAndBadRealms() {
        assertThatThrownBy(() -> AuthLayer.bearer(Map.of())).hasMessageContaining("at least one token");
        assertThatThrownBy(() -> AuthLayer.basic("a\"b", Map.of("u", "p"))).hasMessageContaining("quotes");
        assertThatThrownBy(() -> AuthLayer.basic("r", Map.of("u:x", "p"))).hasMessageContaining("':'");
    }
}
