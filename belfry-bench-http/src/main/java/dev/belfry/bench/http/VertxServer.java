package dev.belfry.bench.http;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;

/**
 * Vert.x with one event loop and the native transport (as Belfry and Armeria use), serving HTTP/1.1
 * and h2c (Vert.x's default) on one port.
 */
final class VertxServer {
    private VertxServer() {}

    static AutoCloseable start(int port) {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true));
        Buffer text = Buffer.buffer(Hello.TEXT_BYTES);
        HttpServer server = vertx.createHttpServer(
                        new HttpServerOptions().setHost("127.0.0.1").setPort(port))
                .requestHandler(request -> {
                    switch (request.path()) {
                        case "/text" ->
                            request.response()
                                    .putHeader("content-type", "text/plain; charset=utf-8")
                                    .end(text);
                        case "/json" ->
                            request.response()
                                    .putHeader("content-type", "application/json")
                                    .end(new JsonObject()
                                            .put("message", Hello.TEXT)
                                            .toBuffer());
                        default -> request.response().setStatusCode(404).end();
                    }
                });
        server.listen().toCompletionStage().toCompletableFuture().join();
        return () -> vertx.close().toCompletionStage().toCompletableFuture().join();
    }
}
