package dev.belfry.netty.accept;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.test.ManualClock;
import dev.belfry.test.NoNettyLeaks;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoNettyLeaks.class)
class AcceptErrorsTest {
    private final ManualClock clock = new ManualClock();
    private final List<String> warnings = new ArrayList<>();
    private final EmbeddedChannel server = new EmbeddedChannel(new AcceptErrors("listener web", clock, warnings::add));

    @AfterEach
    void close() {
        assertThat(server.finish()).isFalse();
    }

    @Test
    void logsTheFirstFailureAndKeepsTheChannelOpen() {
        server.pipeline().fireExceptionCaught(new IOException("Too many open files"));

        // checkException rethrows anything that reached the pipeline's end.
        server.checkException();
        assertThat(server.isOpen()).isTrue();
        assertThat(warnings)
                .containsExactly("listener web: accepting a connection failed (0 similar failures suppressed); "
                        + "still listening: java.io.IOException: Too many open files");
    }

    @Test
    void logsAtMostOncePerTenSecondsCountingThoseSuppressed() {
        server.pipeline().fireExceptionCaught(new IOException("first"));
        clock.advance(Duration.ofSeconds(1));
        server.pipeline().fireExceptionCaught(new IOException("second"));
        clock.advance(Duration.ofSeconds(9).minusNanos(1));
        server.pipeline().fireExceptionCaught(new IOException("third"));

        assertThat(warnings).hasSize(1);

        clock.advance(Duration.ofNanos(1));
        server.pipeline().fireExceptionCaught(new IOException("fourth"));

        server.checkException();
        assertThat(warnings).hasSize(2);
        assertThat(warnings.get(1))
                .isEqualTo("listener web: accepting a connection failed (2 similar failures suppressed); "
                        + "still listening: java.io.IOException: fourth");
    }

    @Test
    void theSuppressedCountStartsAgainAfterEachLine() {
        server.pipeline().fireExceptionCaught(new IOException("a"));
        server.pipeline().fireExceptionCaught(new IOException("b"));
        clock.advance(Duration.ofSeconds(10));
        server.pipeline().fireExceptionCaught(new IOException("c"));
        clock.advance(Duration.ofSeconds(10));
        server.pipeline().fireExceptionCaught(new IOException("d"));

        assertThat(warnings)
                .extracting(line -> line.substring(line.indexOf('(') + 1, line.indexOf(')')))
                .containsExactly(
                        "0 similar failures suppressed",
                        "1 similar failures suppressed",
                        "0 similar failures suppressed");
    }
}
