package dev.belfry.netty.check;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.CompletableFuture;

/**
 * Sends one request when the connection opens and completes {@code result} from the response's
 * status; sits behind an {@link io.netty.handler.codec.http.HttpClientCodec}. Releases every
 * message it reads (the body's chunks included), and closes the channel once it has a verdict.
 */
final class StatusHandler extends ChannelInboundHandlerAdapter {
    private final FullHttpRequest request;
    private final int expected;
    private final CompletableFuture<Void> result;

    StatusHandler(FullHttpRequest request, int expected, CompletableFuture<Void> result) {
        this.request = request;
        this.expected = expected;
        this.result = result;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(request).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (!(msg instanceof HttpResponse response) || result.isDone()) {
                return; // body chunks, or anything after the verdict: released below
            }
            DecoderResult decoded = response.decoderResult();
            if (decoded.isFailure()) {
                result.completeExceptionally(new CheckFailedException(
                        "health check answer is not HTTP: " + decoded.cause(), decoded.cause()));
            } else if (response.status().code() == expected) {
                result.complete(null);
            } else {
                result.completeExceptionally(new UnexpectedStatusException(
                        response.protocolVersion() + " " + response.status(),
                        response.status().code(),
                        expected));
            }
            ctx.close();
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        result.completeExceptionally(new CheckFailedException("health check connection closed before a status line"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        result.completeExceptionally(new CheckFailedException("health check failed: " + cause, cause));
        ctx.close();
    }
}
