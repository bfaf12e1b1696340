package dev.belfry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.status.Status;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StderrBatchAppenderTest {
    /** A stream that records each write it is given, as a system call would see them. */
    private static final class Writes extends PrintStream {
        final List<String> writes = new ArrayList<>();

        Writes() {
            super(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) {
            writes.add(new String(buf, off, len, StandardCharsets.UTF_8));
        }

        synchronized String all() {
            return String.join("", writes);
        }
    }

    private final LoggerContext context = newContext();
    private final Writes target = new Writes();
    private final List<StderrBatchAppender> started = new ArrayList<>();

    private static LoggerContext newContext() {
        LoggerContext context = new LoggerContext();
        // Formatting an event for later reads the MDC, as under SLF4J's provider.
        context.setMDCAdapter(new LogbackMDCAdapter());
        return context;
    }

    @AfterEach
    void stopAppendersAndCheckTheyReportedNoError() {
        started.forEach(StderrBatchAppender::stop);
        assertThat(context.getStatusManager().getCopyOfStatusList())
                .noneMatch(status -> status.getLevel() == Status.ERROR
                        && !status.getMessage().contains("no encoder"));
    }

    // A flush interval far longer than any test: the writer writes only when stop() wakes it.
    private StderrBatchAppender appender(int queueSize) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%level %msg%n");
        encoder.start();
        StderrBatchAppender appender = new StderrBatchAppender(() -> target);
        appender.setContext(context);
        appender.setName("test");
        appender.setEncoder(encoder);
        appender.setQueueSize(queueSize);
        appender.setFlushMillis(600_000);
        appender.start();
        started.add(appender);
        return appender;
    }

    private ILoggingEvent event(String template, Object... args) {
        return new LoggingEvent(
                "test", context.getLogger("dev.belfry.proxy.l4.connections"), Level.INFO, template, null, args);
    }

    @Test
    void linesQueuedTogetherAreWrittenInOrderInOneWrite() {
        StderrBatchAppender appender = appender(8192);
        for (int i = 0; i < 100; i++) {
            appender.doAppend(event("closed n={}", i));
        }
        assertThat(target.writes).as("nothing is written on the logging thread").isEmpty();

        appender.stop();

        assertThat(target.writes).hasSize(1);
        List<String> lines = target.all().lines().toList();
        assertThat(lines).hasSize(100);
        for (int i = 0; i < 100; i++) {
            assertThat(lines.get(i)).isEqualTo("INFO closed n=" + i);
        }
    }

    @Test
    void theMessageIsFormattedWhenLoggedNotWhenWritten() {
        StderrBatchAppender appender = appender(16);
        StringBuilder changing = new StringBuilder("before");
        appender.doAppend(event("state={}", changing));
        changing.setLength(0);
        changing.append("after");

        appender.stop();

        assertThat(target.all()).isEqualTo("INFO state=before\n");
    }

    @Test
    void aFullQueueDropsNewLinesAndTheWriterSaysHowMany() {
        StderrBatchAppender appender = appender(2);
        for (int i = 0; i < 5; i++) {
            appender.doAppend(event("line {}", i));
        }
        assertThat(appender.droppedSinceReport()).isEqualTo(3);

        appender.stop();

        assertThat(target.all().lines().toList())
                .containsExactly(
                        "INFO line 0", "INFO line 1", "belfry: 3 log lines dropped: the log writer could not keep up");
    }

    @Test
    void eventsAfterStopAreNotWrittenAndStopIsIdempotent() {
        StderrBatchAppender appender = appender(16);
        appender.doAppend(event("kept"));
        appender.stop();
        appender.doAppend(event("late"));
        appender.stop();

        assertThat(target.all()).isEqualTo("INFO kept\n");
    }

    @Test
    void withoutAnEncoderItDoesNotStart() {
        StderrBatchAppender appender = new StderrBatchAppender(() -> target);
        appender.setContext(context);
        appender.setName("bare");
        appender.start();

        assertThat(appender.isStarted()).isFalse();
        assertThat(context.getStatusManager().getCopyOfStatusList())
                .anySatisfy(status -> assertThat(status.getMessage()).contains("no encoder set"));
    }
}
