package dev.belfry.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.http.Body;
import dev.belfry.test.NoNettyLeaks;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoNettyLeaks.class)
class BodyWriterTest {
    private static final int CHUNK = 4096;

    /**
     * An owner that resumes its writer when the channel turns writable, as the server and the client
     * handlers do; it records what the writer reports.
     */
    private static final class Owner extends ChannelInboundHandlerAdapter implements BodyWriter.Owner {
        @Nullable
        BodyWriter writer;

        final List<String> events = new ArrayList<>();

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            BodyWriter w = writer;
            if (w != null && ctx.channel().isWritable()) {
                w.resume();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public boolean isCurrent(BodyWriter w) {
            return writer == w;
        }

        @Override
        public void chunkFailed(BodyWriter w, @Nullable Throwable cause) {
            events.add("chunkFailed " + cause);
        }

        @Override
        public void bodyFailed(BodyWriter w, Throwable failure) {
            events.add("bodyFailed " + failure);
        }

        @Override
        public void bodyEnded(BodyWriter w, LastHttpContent last) {
            events.add("ended");
            last.release();
        }
    }

    // Epoll and NIO write to the socket inside flush(): a socket that takes everything makes the
    // channel writable again before flush() returns, and the writability event fires inside it.
    // EmbeddedChannel does the same. A writer that began waiting only after its flush missed that
    // event and stalled until a timeout.
    @Test
    void keepsWritingWhenTheFlushThatItWaitsOnMakesTheChannelWritableAtOnce() {
        Owner owner = new Owner();
        EmbeddedChannel channel = new EmbeddedChannel(owner);
        // Each chunk alone passes the high-water mark: every chunk makes the channel unwritable.
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(CHUNK / 4, CHUNK / 2));
        Chunks source = new Chunks(10);
        BodyWriter writer = new BodyWriter(
                channel.pipeline().context(owner), Body.fromPublisher(source, 10L * CHUNK), owner, false);
        owner.writer = writer;

        writer.start();
        channel.runPendingTasks();

        assertThat(owner.events).containsExactly("ended");
        assertThat(source.requested.get()).isEqualTo(10);
        assertThat(writer.waitingForWritability()).isFalse();
        long written = 0;
        int messages = 0;
        Object message;
        while ((message = channel.readOutbound()) != null) {
            HttpContent content = (HttpContent) message;
            written += content.content().readableBytes();
            messages++;
            content.release();
        }
        assertThat(messages).isEqualTo(10);
        assertThat(written).isEqualTo(10L * CHUNK);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void waitsForWritabilityWhileTheChannelStaysFullAndGoesOnWhenItDrains() {
        Owner owner = new Owner();
        // An outbound handler that holds every flush: the channel stays unwritable until the test
        // lets the writes through.
        HeldFlushes held = new HeldFlushes();
        EmbeddedChannel channel = new EmbeddedChannel(held, owner);
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(CHUNK / 4, CHUNK / 2));
        Chunks source = new Chunks(3);
        BodyWriter writer =
                new BodyWriter(channel.pipeline().context(owner), Body.fromPublisher(source, 3L * CHUNK), owner, false);
        owner.writer = writer;

        writer.start();
        channel.runPendingTasks();

        assertThat(writer.waitingForWritability())
                .as("the first chunk filled the channel")
                .isTrue();
        assertThat(source.requested.get()).isEqualTo(1);
        assertThat(owner.events).isEmpty();

        held.release(channel);
        channel.runPendingTasks();

        assertThat(owner.events).containsExactly("ended");
        assertThat(source.requested.get()).isEqualTo(3);
        Object message;
        int messages = 0;
        while ((message = channel.readOutbound()) != null) {
            ((HttpContent) message).release();
            messages++;
        }
        assertThat(messages).isEqualTo(3);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    /** Swallows flushes until {@link #release}, then flushes through from then on. */
    private static final class HeldFlushes extends io.netty.channel.ChannelOutboundHandlerAdapter {
        private boolean holding = true;
        private final AtomicInteger swallowed = new AtomicInteger();

        @Override
        public void flush(ChannelHandlerContext ctx) {
            if (holding) {
                swallowed.incrementAndGet();
                return;
            }
            ctx.flush();
        }

        void release(EmbeddedChannel channel) {
            holding = false;
            channel.flush();
        }
    }

    /** Publishes {@code count} chunks of {@link #CHUNK} bytes, one per request, synchronously. */
    private static final class Chunks implements Flow.Publisher<ByteBuffer> {
        private final int count;
        final AtomicInteger requested = new AtomicInteger();

        Chunks(int count) {
            this.count = count;
        }

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
            subscriber.onSubscribe(new Flow.Subscription() {
                private int sent;
                private boolean emitting;
                private long demand;

                @Override
                public void request(long n) {
                    demand += n;
                    if (emitting) {
                        return;
                    }
                    emitting = true;
                    try {
                        while (demand > 0 && sent <= count) {
                            demand--;
                            if (sent == count) {
                                sent++;
                                subscriber.onComplete();
                                return;
                            }
                            sent++;
                            requested.incrementAndGet();
                            subscriber.onNext(ByteBuffer.wrap(new byte[CHUNK]));
                        }
                    } finally {
                        emitting = false;
                    }
                }

                @Override
                public void cancel() {
                    sent = count + 1;
                }
            });
        }
    }
}
