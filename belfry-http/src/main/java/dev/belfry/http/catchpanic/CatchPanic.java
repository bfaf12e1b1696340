package dev.belfry.http.catchpanic;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.ServiceException;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.requestid.RequestId;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a handler's unexpected failure with a response (500 by default) instead of letting it
 * reach the server, and logs it once at ERROR with the method, path and request id.
 *
 * <p>Unexpected means: {@code call} threw, or the future failed with something that is not a {@link
 * ServiceException} (those are the core's and Belfry's deliberate failures, which the server maps to
 * their own statuses) and not a cancellation. The response is built by the layer's handler from the
 * failure, and must not carry the stack trace or message to the client. Thread-safe; admission and
 * cancellation pass straight through.
 */
public final class CatchPanic extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private static final Logger LOG = LoggerFactory.getLogger(CatchPanic.class);

    private final Function<Throwable, HttpResponse> responder;

    CatchPanic(Service<HttpRequest, HttpResponse> inner, Function<Throwable, HttpResponse> responder) {
        super(inner);
        this.responder = responder;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        CompletableFuture<HttpResponse> inflight;
        try {
            inflight = inner.call(request);
        } catch (RuntimeException | Error e) {
            return CompletableFuture.completedFuture(answer(request, e));
        }
        if (inflight == null) {
            return CompletableFuture.completedFuture(
                    answer(request, new NullPointerException(inner + " returned a null future")));
        }
        return catching(request, inflight);
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        CompletableFuture<HttpResponse> admitted;
        try {
            admitted = inner.tryCall(request);
        } catch (RuntimeException | Error e) {
            return CompletableFuture.completedFuture(answer(request, e));
        }
        return admitted == null ? null : catching(request, admitted);
    }

    private CompletableFuture<HttpResponse> catching(HttpRequest request, CompletableFuture<HttpResponse> inflight) {
        CompletableFuture<HttpResponse> result = new CompletableFuture<>();
        inflight.whenComplete((response, failure) -> {
            if (failure == null) {
                result.complete(response);
                return;
            }
            Throwable cause = Futures.unwrap(failure);
            if (cause instanceof ServiceException || cause instanceof CancellationException) {
                Futures.completeFrom(result, null, cause);
            } else {
                result.complete(answer(request, cause));
            }
        });
        Futures.propagateCancellation(result, inflight);
        return result;
    }

    private HttpResponse answer(HttpRequest request, Throwable failure) {
        String id = request.attribute(RequestId.ATTRIBUTE);
        // Logged here once; the server never sees the failure, so it does not log it again.
        LOG.error(
                "{} {} failed (request id {}); answered with a response instead",
                request.method(),
                request.path(),
                id == null ? "-" : id,
                failure);
        try {
            return responder.apply(failure);
        } catch (RuntimeException e) {
            LOG.error("the panic responder failed too; answering 500", e);
            return CatchPanicLayer.internalServerError(failure);
        }
    }
}
