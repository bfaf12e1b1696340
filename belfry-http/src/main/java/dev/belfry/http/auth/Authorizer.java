package dev.belfry.http.auth;

import dev.belfry.http.HttpRequest;
import java.util.concurrent.CompletionStage;

/**
 * Decides, asynchronously, whether a request may pass: look up a session, call an identity
 * service, check a token's signature. Must not block (it runs on the event loop); must not consume
 * the request's body. A failed stage fails the request (the server answers 500).
 */
@FunctionalInterface
public interface Authorizer {
    /** The decision for {@code request}. */
    CompletionStage<AuthDecision> authorize(HttpRequest request);
}
