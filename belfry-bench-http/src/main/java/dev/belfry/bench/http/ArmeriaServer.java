package dev.belfry.bench.http;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.Server;

/** Armeria with one worker event loop and its defaults otherwise (HTTP/1.1 and h2c on one port). */
final class ArmeriaServer {
    private ArmeriaServer() {}

    static AutoCloseable start(int port) {
        Server server = Server.builder()
                .http(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port))
                .workerGroup(1)
                .service("/text", (ctx, req) -> HttpResponse.of(HttpStatus.OK, MediaType.PLAIN_TEXT_UTF_8, Hello.TEXT))
                .service("/json", (ctx, req) -> HttpResponse.ofJson(new Hello.Message(Hello.TEXT)))
                .build();
        server.start().join();
        return () -> server.stop().join();
    }
}
