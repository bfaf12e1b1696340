package dev.belfry.test;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit extension that fails a test class if Netty's leak detector reports a leak while it runs:
 * {@code @ExtendWith(NoNettyLeaks.class)}.
 *
 * <p>Run tests with {@code -Dio.netty.leakDetection.level=paranoid} (Belfry's build does); this
 * checks the level before the class and fails if it is lower. Paranoid detection tracks every buffer
 * but reports a leak only once the garbage collector has found the unreleased object and a later
 * allocation checks, so after the class this collects garbage and allocates a few buffers to bring
 * pending reports out.
 *
 * <p>Reports are heard three ways at once, so none depends on the logging library on the class
 * path: Netty's buffer leak listener (every leaked {@code ByteBuf}); the detector's log lines through
 * {@code java.util.logging} (where Netty logs when no other library is present); and, if Netty logs
 * through SLF4J to Logback, the detector's Logback logger (which also carries the reports of
 * detectors other than the buffers', such as the PROXY-protocol message's). A leak heard twice is
 * reported twice.
 *
 * <p>Not for parallel test classes in one JVM: the listener and log taps are process-wide.
 */
public final class NoNettyLeaks implements BeforeAllCallback, AfterAllCallback {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    // Held strongly: java.util.logging keeps loggers only weakly, and would drop our handler.
    private static final Logger JUL_DETECTOR = Logger.getLogger(ResourceLeakDetector.class.getName());
    private static final Handler JUL_HANDLER = new Handler() {
        @Override
        public void publish(LogRecord record) {
            heard(record.getMessage());
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    private @Nullable AutoCloseable logbackTap;

    @Override
    public void beforeAll(ExtensionContext context) {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        if (level != ResourceLeakDetector.Level.PARANOID) {
            throw new IllegalStateException("Netty leak detection must be paranoid for NoNettyLeaks, was " + level
                    + "; run the tests with -Dio.netty.leakDetection.level=paranoid");
        }
        LEAKS.clear();
        ByteBufUtil.setLeakListener((type, records) -> LEAKS.add("LEAK: " + type + ": " + records));
        JUL_DETECTOR.addHandler(JUL_HANDLER);
        logbackTap = openLogbackTap();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            for (int i = 0; i < 5; i++) {
                System.gc();
                ByteBuf probe = ByteBufAllocator.DEFAULT.buffer(16);
                probe.release();
            }
            if (!LEAKS.isEmpty()) {
                List<String> leaks = new ArrayList<>(LEAKS);
                throw new AssertionError(leaks.size() + " Netty leak report(s) while " + context.getDisplayName()
                        + " ran:\n" + String.join("\n", leaks));
            }
        } finally {
            ByteBufUtil.setLeakListener(null);
            JUL_DETECTOR.removeHandler(JUL_HANDLER);
            if (logbackTap != null) {
                logbackTap.close();
                logbackTap = null;
            }
        }
    }

    // The class names are checked here, outside LogbackTap: loading that class needs Logback.
    private static @Nullable AutoCloseable openLogbackTap() {
        if (!present("org.slf4j.LoggerFactory") || !present("ch.qos.logback.classic.Logger")) {
            return null;
        }
        return LogbackTap.open();
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, NoNettyLeaks.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    static void heard(@Nullable String message) {
        if (message != null && message.contains("LEAK")) {
            LEAKS.add(message);
        }
    }

    /** The detector's Logback logger, tapped only if Logback is Netty's logging library here. */
    private static final class LogbackTap implements AutoCloseable {
        private final ch.qos.logback.classic.Logger logger;
        private final ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.AppenderBase<>() {
                    @Override
                    protected void append(ch.qos.logback.classic.spi.ILoggingEvent event) {
                        heard(event.getFormattedMessage());
                    }
                };

        private LogbackTap(ch.qos.logback.classic.Logger logger) {
            this.logger = logger;
            appender.setContext(logger.getLoggerContext());
            appender.start();
            logger.addAppender(appender);
        }

        static @Nullable AutoCloseable open() {
            org.slf4j.Logger logger = org.slf4j.LoggerFactory.getLogger(ResourceLeakDetector.class);
            return logger instanceof ch.qos.logback.classic.Logger logback ? new LogbackTap(logback) : null;
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
            appender.stop();
        }
    }
}
