package dev.belfry.http.catchpanic;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.util.function.Function;

/** Wraps a service in {@link CatchPanic}. */
public final class CatchPanicLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final Function<Throwable, HttpResponse> responder;

    private CatchPanicLayer(Function<Throwable, HttpResponse> responder) {
        this.responder = responder;
    }

    /** Answers {@code 500} with the text {@code internal server error}. */
    public static CatchPanicLayer create() {
        return new CatchPanicLayer(CatchPanicLayer::internalServerError);
    }

    /**
     * Answers with {@code responder}'s response for the failure (which must not show the failure's
     * message or stack trace to the client); a responder that throws gets the default 500.
     */
    public static CatchPanicLayer of(Function<Throwable, HttpResponse> responder) {
        return new CatchPanicLayer(Checks.notNull(responder, "responder"));
    }

    static HttpResponse internalServerError(Throwable ignored) {
        return HttpResponse.status(500).text("internal server error\n").build();
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new CatchPanic(Checks.notNull(inner, "inner"), responder);
    }
}
