package dev.belfry.bench.http;

import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.server.HttpServer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** Belfry's {@link HttpServer} with a service that answers the two paths, as a user would write it. */
final class BelfryServer {
    private BelfryServer() {}

    static AutoCloseable start(int port) {
        Service<HttpRequest, HttpResponse> service = request -> CompletableFuture.completedFuture(
                switch (request.path()) {
                    case "/text" -> HttpResponse.text(Hello.TEXT);
                    case "/json" -> HttpResponse.json(new Hello.Message(Hello.TEXT));
                    default -> HttpResponse.of(404);
                });
        HttpServer server = HttpServer.builder(service)
                .bind("127.0.0.1", port)
                .ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(1))
                .start();
        return server;
    }
}
