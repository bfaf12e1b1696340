package dev.belfry.proxy.l4;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class if Netty's leak detector reports a leaked buffer while it runs.
 *
 * <p>Surefire runs with paranoid leak detection; Netty logs through SLF4J to Logback in this module,
 * so this listens on the detector's Logback logger. After the class it collects garbage and
 * allocates a few buffers so pending reports surface. It also sets the root level to INFO: Netty's
 * DEBUG output would only slow the tests down.
 */
final class NettyLeaks implements BeforeAllCallback, AfterAllCallback {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static final Logger DETECTOR = (Logger) LoggerFactory.getLogger(ResourceLeakDetector.class);
    private static final AppenderBase<ILoggingEvent> APPENDER = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            String message = event.getFormattedMessage();
            if (message != null && message.contains("LEAK")) {
                LEAKS.add(message);
            }
        }
    };

    @Override
    public void beforeAll(ExtensionContext context) {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.INFO);
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
        LEAKS.clear();
        APPENDER.setContext(DETECTOR.getLoggerContext());
        APPENDER.start();
        DETECTOR.addAppender(APPENDER);
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
            DETECTOR.detachAppender(APPENDER);
        }
    }
}
