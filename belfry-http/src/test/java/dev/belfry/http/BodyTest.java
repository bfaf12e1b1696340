package dev.belfry.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.test.NoNettyLeaks;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoNettyLeaks.class)
class BodyTest {
    record User(String name, int age) {}

    @Test
    void aBodyInMemoryCanBeReadMoreThanOnce() {
        Body body = Body.of("twice");

        assertThat(body.repeatable()).isTrue();
        assertThat(body.contentLength()).isEqualTo(5);
        assertThat(body.collectUtf8(100).join()).isEqualTo("twice");
        assertThat(body.collectUtf8(100).join()).isEqualTo("twice");
    }

    @Test
    void collectingPastTheCapFailsWithTheLimit() {
        assertThatThrownBy(() -> Body.of("123456").collectBytes(5).join())
                .cause()
                .isInstanceOf(BodyTooLargeException.class)
                .hasMessageContaining("5 bytes");
        assertThat(Body.of("12345").collectBytes(5).join()).hasSize(5);
    }

    @Test
    void readsJsonIntoARecord() {
        User user = Body.of("{\"name\":\"ada\",\"age\":36}")
                .collectJson(User.class, 1024)
                .join();

        assertThat(user).isEqualTo(new User("ada", 36));
    }

    @Test
    void malformedJsonIsABadRequestThatSaysWhereAndWhat() {
        assertThatThrownBy(() -> Body.of("{\"name\":\"ada\",\n \"age\": x}")
                        .collectJson(User.class, 1024)
                        .join())
                .isInstanceOf(CompletionException.class)
                .cause()
                .isInstanceOf(BadRequestException.class)
                .hasMessageContaining("line 2")
                .hasMessageContaining("Unrecognized token 'x'");
        assertThatThrownBy(() -> Body.of("{\"nam\":\"ada\"}")
                        .collectJson(User.class, 1024)
                        .join())
                .cause()
                .hasMessageContaining("nam");
    }

    @Test
    void aPublisherBodyStreamsWithDemandAndIsSingleUse() throws Exception {
        var source = new SubmissionPublisher<ByteBuffer>();
        Body body = Body.fromPublisher(source, -1);
        var collected = body.collectUtf8(1024);
        source.submit(ByteBuffer.wrap("ab".getBytes(StandardCharsets.UTF_8)));
        source.submit(ByteBuffer.wrap("cd".getBytes(StandardCharsets.UTF_8)));
        source.close();

        assertThat(collected.get(5, TimeUnit.SECONDS)).isEqualTo("abcd");
        assertThat(body.trailers().toCompletableFuture().get(5, TimeUnit.SECONDS))
                .isEqualTo(Headers.empty());
        assertThatThrownBy(() -> body.collectBytes(10).join())
                .cause()
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("only once");
    }

    @Test
    void thePublisherViewHandsOutCopiesWithDemand() {
        Body body = Body.of("xyz");
        List<String> seen = new ArrayList<>();
        body.publisher().subscribe(new Flow.Subscriber<ByteBuffer>() {
            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                seen.add("subscribed");
            }

            @Override
            public void onNext(ByteBuffer item) {
                seen.add(StandardCharsets.UTF_8.decode(item).toString());
            }

            @Override
            public void onError(Throwable throwable) {
                seen.add("error " + throwable);
            }

            @Override
            public void onComplete() {
                seen.add("complete");
            }
        });

        assertThat(seen).as("nothing is sent before demand").containsExactly("subscribed");
    }
}
