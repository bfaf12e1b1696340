package dev.belfry.http.headers;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Applies a fixed list of header operations to each request and its response.
 *
 * <p>Thread-safe if the value functions are; admission and cancellation pass straight through.
 */
public final class SetHeaders extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final List<SetHeadersLayer.RequestOp> requestOps;
    private final List<SetHeadersLayer.ResponseOp> responseOps;

    SetHeaders(
            Service<HttpRequest, HttpResponse> inner,
            List<SetHeadersLayer.RequestOp> requestOps,
            List<SetHeadersLayer.ResponseOp> responseOps) {
        super(inner);
        this.requestOps = requestOps;
        this.responseOps = responseOps;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        HttpRequest changed;
        try {
            changed = rewrite(request);
        } catch (RuntimeException e) {
            return Futures.failed(e);
        }
        return respond(request, Futures.call(inner, changed));
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        HttpRequest changed;
        try {
            changed = rewrite(request);
        } catch (RuntimeException e) {
            return Futures.failed(e);
        }
        CompletableFuture<HttpResponse> admitted = inner.tryCall(changed);
        return admitted == null ? null : respond(request, admitted);
    }

    private HttpRequest rewrite(HttpRequest request) {
        if (requestOps.isEmpty()) {
            return request;
        }
        HttpRequest.Builder builder = request.toBuilder();
        for (SetHeadersLayer.RequestOp op : requestOps) {
            op.apply(request, builder);
        }
        return builder.build();
    }

    private CompletableFuture<HttpResponse> respond(HttpRequest request, CompletableFuture<HttpResponse> inflight) {
        if (responseOps.isEmpty()) {
            return inflight;
        }
        CompletableFuture<HttpResponse> result = new CompletableFuture<>();
        inflight.whenComplete((response, failure) -> {
            if (failure != null) {
                Futures.completeFrom(result, null, failure);
                return;
            }
            try {
                HttpResponse.Builder builder = response.toBuilder();
                for (SetHeadersLayer.ResponseOp op : responseOps) {
                    op.apply(request, response, builder);
                }
                if (!result.complete(builder.build())) {
                    response.close();
                }
            } catch (RuntimeException e) {
                response.close(); // nobody will read the body now
                result.completeExceptionally(e);
            }
        });
        Futures.propagateCancellation(result, inflight);
        return result;
    }
}
