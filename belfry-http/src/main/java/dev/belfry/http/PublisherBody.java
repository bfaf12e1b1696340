package dev.belfry.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/** A streamed body from a user's publisher; demand and cancellation pass straight through. */
final class PublisherBody extends Body {
    private final Flow.Publisher<ByteBuffer> source;
    private final long contentLength;
    private final CompletableFuture<Headers> trailers = new CompletableFuture<>();

    PublisherBody(Flow.Publisher<ByteBuffer> source, long contentLength) {
        this.source = source;
        this.contentLength = contentLength;
    }

    @Override
    public long contentLength() {
        return contentLength;
    }

    @Override
    public CompletionStage<Headers> trailers() {
        return trailers.minimalCompletionStage();
    }

    @Override
    protected void subscribe(Flow.Subscriber<? super ByteBuf> subscriber) {
        source.subscribe(new Flow.Subscriber<ByteBuffer>() {
            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                subscriber.onSubscribe(subscription);
            }

            @Override
            public void onNext(ByteBuffer item) {
                // Wrapping, not copying: the buffer is read when written (documented on fromPublisher).
                subscriber.onNext(Unpooled.wrappedBuffer(item));
            }

            @Override
            public void onError(Throwable throwable) {
                trailers.completeExceptionally(throwable);
                subscriber.onError(throwable);
            }

            @Override
            public void onComplete() {
                trailers.complete(Headers.empty());
                subscriber.onComplete();
            }
        });
    }
}
