package dev.belfry.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class if Netty's leak detector reports a leaked buffer while it runs.
 *
 * <p>Surefire runs with paranoid leak detection, which tracks every buffer but reports a leak only
 * when the garbage collector has found the unreleased buffer and a later allocation checks. After the
 * class, this collects garbage and allocates a few buffers so pending reports surface, and asserts
 * that none was logged (Netty logs through java.util.logging here: no other logging library is on
 * the test class path).
 */
public final class NoLeaks implements BeforeAllCallback, AfterAllCallback {
    // Held strongly: java.util.logging keeps loggers only weakly, and would drop our handler.
    private static final Logger DETECTOR = Logger.getLogger(ResourceLeakDetector.class.getName());
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static final Handler HANDLER = new Handler() {
        @Override
        public void publish(LogRecord record) {
            String message = record.getMessage();
            if (message != null && message.contains("LEAK")) {
                LEAKS.add(message);
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @Override
    public void beforeAll(ExtensionContext context) {
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
        LEAKS.clear();
        DETECTOR.addHandler(HANDLER);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        try {
            for (int i = 0; i < 5; i++) {
                System.gc();
                ByteBuf probe = ByteBufAllocator.DEFAULT.buffer(16);
                probe.release();
            }
            assertThat(LEAKS).as("leaked Netty buffers").isEmpty();
        } finally {
            DETECTOR.removeHandler(HANDLER);
        }
    }
}
