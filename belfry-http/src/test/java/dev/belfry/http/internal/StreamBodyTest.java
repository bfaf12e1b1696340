package dev.belfry.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.http.Headers;
import dev.belfry.test.NoNettyLeaks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Flow;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoNettyLeaks.class)
class StreamBodyTest {
    private int demands;
    private int cancels;
    private final StreamBody body = new StreamBody(ImmediateEventExecutor.INSTANCE, -1, new StreamBody.Source() {
        @Override
        public void demand() {
            demands++;
        }

        @Override
        public void cancelled() {
            cancels++;
        }
    });

    private static ByteBuf chunk(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    @Test
    void asksTheSourceToReadOnlyWhileThereIsDemand() {
        Recorder recorder = new Recorder();
        body.subscribeBuffers(recorder);
        assertThat(demands).as("no demand yet").isZero();

        recorder.request(1);
        assertThat(demands).isEqualTo(1);
        body.offer(chunk("a"));
        assertThat(recorder.events).containsExactly("a");
        assertThat(demands).as("demand used up: the source must stop").isEqualTo(1);

        body.offer(chunk("b"));
        assertThat(recorder.events).as("queued without demand").containsExactly("a");
        recorder.request(2);
        body.end(Headers.of("grpc-status", "0"));
        assertThat(recorder.events).containsExactly("a", "b", "complete");
        assertThat(body.trailers().toCompletableFuture().join().get("grpc-status"))
                .isEqualTo("0");
    }

    @Test
    void cancellingReleasesQueuedAndLateChunksAndTellsTheSource() {
        Recorder recorder = new Recorder();
        body.subscribeBuffers(recorder);
        ByteBuf queued = chunk("q");
        body.offer(queued);

        recorder.subscription.cancel();
        ByteBuf late = chunk("late");
        body.offer(late);

        assertThat(queued.refCnt()).isZero();
        assertThat(late.refCnt()).isZero();
        assertThat(cancels).isEqualTo(1);
        assertThat(recorder.events).isEmpty();
        assertThat(body.trailers().toCompletableFuture()).isCompletedExceptionally();
    }

    @Test
    void aFailureDropsQueuedChunksAndReachesTheSubscriber() {
        Recorder recorder = new Recorder();
        body.subscribeBuffers(recorder);
        ByteBuf queued = chunk("q");
        body.offer(queued);

        body.fail(new IllegalStateException("reset"));

        assertThat(queued.refCnt()).isZero();
        assertThat(recorder.events).containsExactly("error reset");
        assertThat(cancels).as("a failure is not a cancellation").isZero();
    }

    @Test
    void discardingBeforeAnySubscriberReleasesAndStopsTheSource() {
        ByteBuf queued = chunk("q");
        body.offer(queued);

        body.discard();
        body.discard();

        assertThat(queued.refCnt()).isZero();
        assertThat(cancels).isEqualTo(1);
    }

    @Test
    void aSecondSubscriberIsRefusedThroughOnError() {
        body.subscribeBuffers(new Recorder());
        Recorder second = new Recorder();

        body.subscribeBuffers(second);

        assertThat(second.events).containsExactly("error a streamed body can be consumed only once");
    }

    private static final class Recorder implements Flow.Subscriber<ByteBuf> {
        final List<String> events = new ArrayList<>();
        Flow.@Nullable Subscription subscription;

        void request(long n) {
            if (subscription != null) {
                subscription.request(n);
            }
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
        }

        @Override
        public void onNext(ByteBuf item) {
            events.add(item.toString(StandardCharsets.UTF_8));
            item.release();
        }

        @Override
        public void onError(Throwable throwable) {
            events.add("error " + throwable.getMessage());
        }

        @Override
        public void onComplete() {
            events.add("complete");
        }
    }
}
