package dev.belfry.http.auth;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.security.Principal;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Passes a request on only when its {@link Authorizer} allows it; answers 401 with the challenge,
 * or the authorizer's own response, otherwise.
 *
 * <p>The inner service is called after the decision, so {@code tryCall} cannot be exact about the
 * inner service's capacity and falls back to {@code call} when the inner service is ready now.
 * Cancelling the returned future cancels the authorizer's stage and, once called, the inner call.
 * Thread-safe if the authorizer is.
 */
public final class Auth extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final Authorizer authorizer;
    private final String challenge;

    Auth(Service<HttpRequest, HttpResponse> inner, Authorizer authorizer, String challenge) {
        super(inner);
        this.authorizer = authorizer;
        this.challenge = challenge;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        CompletableFuture<AuthDecision> decision = Futures.guard(() -> authorizer.authorize(request));
        CompletableFuture<HttpResponse> result = new CompletableFuture<>();
        decision.whenComplete((d, failure) -> {
            if (failure != null) {
                request.body().discard();
                Futures.completeFrom(result, null, failure);
                return;
            }
            if (d == null || !d.allowed()) {
                request.body().discard();
                result.complete(refusal(d));
                return;
            }
            Principal principal = d.principal();
            HttpRequest passed = principal == null ? request : request.withAttribute(AuthLayer.PRINCIPAL, principal);
            if (result.isDone()) {
                request.body().discard(); // cancelled while deciding
                return;
            }
            CompletableFuture<HttpResponse> inflight = Futures.call(inner, passed);
            Futures.propagateCancellation(result, inflight);
            inflight.whenComplete((response, f) -> {
                if (!Futures.completeFrom(result, response, f) && f == null) {
                    Futures.discard(response);
                }
            });
        });
        Futures.propagateCancellation(result, decision);
        return result;
    }

    private HttpResponse refusal(@Nullable AuthDecision decision) {
        HttpResponse own = decision == null ? null : decision.response();
        if (own != null) {
            return own;
        }
        return HttpResponse.status(401)
                .header("www-authenticate", challenge)
                .text("unauthorized\n")
                .build();
    }

    /** The {@code WWW-Authenticate} value sent with a 401. */
    public String challenge() {
        return challenge;
    }
}
