/**
 * The servers and load clients that {@code bench/http-compare.sh} runs side by side: Belfry's
 * {@code HttpServer} and {@code HttpClient}, a plain Netty handler (the floor), Armeria, Vert.x,
 * OkHttp and the JDK's client.
 *
 * <p>{@link dev.belfry.bench.http.PeerServer} starts one server (each in its own JVM, one event
 * loop) answering {@code GET /text} with {@code Hello, World!} and {@code GET /json} with {@code
 * {"message":"Hello, World!"}}, over HTTP/1.1 and h2c on one port, and reports its JVM's allocated
 * bytes on a side port. {@link dev.belfry.bench.http.LoadClient} drives one client at a fixed number
 * of requests in flight against a URL and prints its requests per second, CPU and allocation per
 * request. Neither is a library: nothing here is tested or shipped, and the peers' dependencies
 * stay in this module.
 */
@NullMarked
package dev.belfry.bench.http;

import org.jspecify.annotations.NullMarked;
