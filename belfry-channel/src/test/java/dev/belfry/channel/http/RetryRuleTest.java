package dev.belfry.channel.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.OverloadedException;
import dev.belfry.http.Body;
import dev.belfry.http.ConnectionClosedException;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.client.NotSentException;
import dev.belfry.http.client.PhaseElapsedException;
import dev.belfry.reconnect.ConnectFailedException;
import java.net.ConnectException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.SubmissionPublisher;
import org.junit.jupiter.api.Test;

/** Which failed requests the channel sends again to another member. */
class RetryRuleTest {
    private static final HttpRequest GET = HttpRequest.get("/users/7");
    private static final HttpRequest POST = HttpRequest.post("/orders", Body.of("{\"n\":1}"));
    private static final HttpRequest PUT =
            HttpRequest.builder(HttpMethod.PUT, "/users/7").body(Body.of("{}")).build();

    private final Throwable notSent = new NotSentException("the server refused the stream (REFUSED_STREAM)");
    private final Throwable connectFailed = new ConnectFailedException(new ConnectException("refused"));
    private final Throwable cutOff = new ConnectionClosedException("the connection closed before the response");

    @Test
    void aRequestThatNeverReachedAServerIsRetriedWhateverItsMethod() {
        assertThat(WarmHttpChannel.retryable(POST, notSent, true)).isTrue();
        assertThat(WarmHttpChannel.retryable(POST, connectFailed, false)).isTrue();
        assertThat(WarmHttpChannel.retryable(GET, new CompletionException(notSent), false))
                .isTrue();
        // A member whose own queue is full did not take the request either.
        assertThat(WarmHttpChannel.retryable(POST, new OverloadedException("1024 calls already wait"), false))
                .isTrue();
    }

    @Test
    void aRequestCutOffBeforeItsResponseIsRetriedOnlyIfIdempotentAndAllowed() {
        assertThat(WarmHttpChannel.retryable(GET, cutOff, true)).isTrue();
        assertThat(WarmHttpChannel.retryable(PUT, cutOff, true)).isTrue();
        assertThat(WarmHttpChannel.retryable(POST, cutOff, true)).isFalse();
        assertThat(WarmHttpChannel.retryable(GET, cutOff, false)).isFalse();
    }

    @Test
    void aStreamedBodyIsNeverSentAgain() {
        SubmissionPublisher<ByteBuffer> source = new SubmissionPublisher<>();
        HttpRequest streamed = HttpRequest.builder(HttpMethod.PUT, "/upload")
                .body(Body.fromPublisher(source, -1))
                .build();
        assertThat(WarmHttpChannel.retryable(streamed, notSent, true)).isFalse();
        assertThat(WarmHttpChannel.retryable(streamed, cutOff, true)).isFalse();
        source.close();
    }

    @Test
    void timeoutsAndOtherFailuresAreNotRetried() {
        Throwable slow = new PhaseElapsedException(
                "http://127.0.0.1:8080", PhaseElapsedException.Phase.RESPONSE_HEADERS, Duration.ofSeconds(30));
        assertThat(WarmHttpChannel.retryable(GET, slow, true)).isFalse();
        assertThat(WarmHttpChannel.retryable(GET, new IllegalStateException("bug"), true))
                .isFalse();
    }
}
