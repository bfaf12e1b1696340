/**
 * The HTTP client: {@link dev.belfry.http.client.HttpClient}, a {@code Service<HttpRequest,
 * HttpResponse>} calling one origin over HTTP/1.1 (a keep-alive pool) or h2c (HTTP/2 by prior
 * knowledge, multiplexed).
 *
 * <pre>
 *   call ──▶ Pool ──┬─ free connection / stream ──▶ its handler (event loop)
 *                   ├─ fewer than maxConnections: open one, wait for it
 *                   ├─ else queue (up to maxPending) ──▶ readiness BUSY
 *                   └─ else OverloadedException
 *   HTTP/1.1: socket ─ HttpClientCodec ─ ExchangeHandler (one exchange at a time, then back to the pool)
 *   h2c:      socket ─ Http2FrameCodec ─ Http2ClientHandler (every stream: a small record by stream
 *                                         id; SETTINGS, GOAWAY; frames straight to Belfry's messages)
 * </pre>
 *
 * <p>Reads follow demand: the response future completes when the head arrives, and the HTTP/1.1 socket
 * is read further only while the body's subscriber wants more; an h2c stream's flow-control credit
 * is given back to the server only then, so a caller that does not read holds the server to one
 * stream window (1 MiB) while the connection's other streams go on.
 * The request body is pulled one chunk at a time, the next only once the previous went into a
 * writable channel. A connection returns to the pool only after its response's last byte was read
 * and its request written whole; a body cancelled or discarded early closes the HTTP/1.1
 * connection (resets the HTTP/2 stream).
 *
 * <p>What was certainly never sent fails with an {@link dev.belfry.UnprocessedException} ({@link
 * dev.belfry.http.client.NotSentException}, or the core's {@link
 * dev.belfry.reconnect.ConnectFailedException} for a failed or timed-out connect), so the core's
 * retry, stacked outside the client, repeats only what is safe. Timers run on the builder's clock
 * and fail with {@link dev.belfry.http.client.PhaseElapsedException} naming the origin and phase.
 * Each connection keeps its exchanges' deadlines in a heap on its event loop and sets at most one
 * timer on the clock, for the earliest ({@code Deadlines}), so arming and disarming a request's
 * timeout never leaves the event loop.
 */
@NullMarked
package dev.belfry.http.client;

import org.jspecify.annotations.NullMarked;
