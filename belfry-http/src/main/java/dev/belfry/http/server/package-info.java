/**
 * The HTTP server: serves any {@code Service<HttpRequest, HttpResponse>} over HTTP/1.1 and h2c.
 *
 * <pre>
 *   socket ──▶ ProtocolSelector ──┬─ HTTP/1.1: StrictRequestDecoder ─▶ ServerHandler (one per connection)
 *                                 │    (Upgrade: h2c ─▶ switches to the HTTP/2 pipeline below)
 *                                 └─ h2c preface: Http2Timeouts ─▶ Http2FrameCodec ─▶ Http2ServerHandler (every stream)
 *   ServerHandler, Http2ServerHandler ──▶ service.call(request) ──▶ response head, then the body as the peer reads
 * </pre>
 *
 * <p>An HTTP/2 connection has one handler for all its streams: a HEADERS frame becomes a request,
 * DATA frames its body, and the response goes out as frames on the stream, with no channel or
 * HTTP/1 conversion per stream; what is written while the connection is read is flushed once at
 * the end of the read. On HTTP/1.1, a response whose body is in hand (or absent) is laid out as
 * bytes in one buffer and written past Netty's encoder ({@code WholeResponse}, the same bytes the
 * encoder writes), and the exchange ends as soon as the socket has taken them, with no promise per
 * response; a streamed body goes through the encoder chunk by chunk.
 *
 * <p>Reads follow demand: a connection is read only while a request head is awaited or the
 * request body's subscriber wants more, so a slow handler holds the client back through TCP (or
 * HTTP/2 flow control) instead of making the server buffer. Malformed requests get 400 (414 for a
 * long request line, 431 for too many or too large headers, 413 for a body over the limit) and a
 * closed connection; the service never sees them. A failed response future maps to a status with
 * {@link dev.belfry.http.server.FailureStatus} and no stack trace reaches the client.
 *
 * <p>HTTP/2 connections keep Netty's flood limits (rapid reset, control frames, empty DATA,
 * CONTINUATION) and get two timers of their own from {@link dev.belfry.http.server.ServerLimits}:
 * an idle timeout with no stream open (GOAWAY {@code NO_ERROR}) and a header-block timeout
 * (GOAWAY {@code ENHANCE_YOUR_CALM}).
 *
 * <p>The service is called on the connection's event loop and must not block; wrap blocking code
 * with {@link dev.belfry.http.server.BlockingHandler}, which runs it on virtual threads.
 */
@NullMarked
package dev.belfry.http.server;

import org.jspecify.annotations.NullMarked;
