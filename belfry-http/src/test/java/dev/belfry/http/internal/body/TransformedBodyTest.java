package dev.belfry.http.internal.body;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Futures;
import dev.belfry.http.Body;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class TransformedBodyTest {
    private final List<@Nullable Throwable> closes = new ArrayList<>();

    /** Doubles every chunk into two chunks: one input, two outputs. */
    private final class Doubling extends Transform {
        private final List<ByteBuf> out = new ArrayList<>();

        @Override
        public void push(ByteBuf chunk) {
            out.add(chunk.retainedDuplicate());
            out.add(chunk);
        }

        @Override
        public @Nullable ByteBuf poll() {
            return out.isEmpty() ? null : out.remove(0);
        }

        @Override
        public void end() {
            out.add(Unpooled.copiedBuffer("!", StandardCharsets.UTF_8));
        }

        @Override
        public void close(@Nullable Throwable failure) {
            closes.add(failure);
            out.forEach(ByteBuf::release);
            out.clear();
        }
    }

    @Test
    void turnsOneChunkIntoSeveralAndAddsWhatTheEndProduces() {
        Body body = new TransformedBody(Chunks.of("a", "b").body(), -1, Doubling::new);

        assertThat(body.collectUtf8(100).join()).isEqualTo("aabb!");
        assertThat(closes).containsExactly((Throwable) null);
    }

    @Test
    void asksTheSourceForOneChunkOnlyWhenTheSubscriberWantsMore() {
        Chunks source = Chunks.of("a", "b", "c");
        Body body = new TransformedBody(source.body(), -1, Doubling::new);
        List<String> seen = new ArrayList<>();
        Flow.Subscription[] subscription = new Flow.Subscription[1];
        body.subscribeBuffers(new Flow.Subscriber<ByteBuf>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription[0] = s;
            }

            @Override
            public void onNext(ByteBuf item) {
                seen.add(item.toString(StandardCharsets.UTF_8));
                item.release();
            }

            @Override
            public void onError(Throwable throwable) {}

            @Override
            public void onComplete() {}
        });

        subscription[0].request(1);
        assertThat(seen).containsExactly("a");
        assertThat(source.emitted()).isEqualTo(1);
        subscription[0].request(1);
        assertThat(source.emitted())
                .as("the second output came from the first chunk")
                .isEqualTo(1);
        subscription[0].request(1);
        assertThat(source.emitted()).isEqualTo(2);
        subscription[0].cancel();

        assertThat(seen).containsExactly("a", "a", "b");
        assertThat(source.cancelled()).isTrue();
        assertThat(closes).hasSize(1);
        assertThat(closes.get(0)).isInstanceOf(CancellationException.class);
    }

    @Test
    void aTransformThatThrowsFailsTheBodyAndCancelsTheSource() {
        Chunks source = Chunks.of("ok", "bad", "never");
        IllegalStateException broken = new IllegalStateException("broken");
        Body body = new TransformedBody(source.body(), -1, () -> new Transform.PassThrough() {
            @Override
            protected void seen(ByteBuf chunk) {
                if (chunk.toString(StandardCharsets.UTF_8).equals("bad")) {
                    throw broken;
                }
            }

            @Override
            public void close(@Nullable Throwable failure) {
                super.close(failure);
                closes.add(failure);
            }
        });

        CompletableFuture<String> text = body.collectUtf8(100);

        assertThat(Futures.unwrap(text.handle((t, f) -> f).join())).isSameAs(broken);
        assertThat(source.cancelled()).isTrue();
        assertThat(closes).containsExactly(broken);
    }

    @Test
    void isConsumedOnlyOnce() {
        Body body = new TransformedBody(Body.of("x"), 1, Transform.PassThrough::new);

        assertThat(body.collectUtf8(10).join()).isEqualTo("x");
        assertThat(Futures.unwrap(body.collectUtf8(10).handle((t, f) -> f).join()))
                .isInstanceOf(IllegalStateException.class);
    }
}
