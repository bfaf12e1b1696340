package dev.belfry.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import dev.belfry.proxy.config.LogConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Applies a config's {@code [log]} table to logback: the root level, and JSON lines if asked. */
final class Logging {
    private Logging() {}

    /**
     * Stops logback, which writes the lines its appenders still hold ({@link StderrBatchAppender}
     * writes from a thread of its own); called before the process exits.
     */
    static void flush() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }

    static void apply(LogConfig config) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(config.level(), Level.INFO));
        if (config.json() && !(root.getAppender("JSON") instanceof StderrBatchAppender)) {
            JsonEncoder encoder = new JsonEncoder();
            encoder.setContext(context);
            // The message with its values filled in, not the template; the values also stay
            // separate, under "arguments".
            encoder.setWithFormattedMessage(true);
            encoder.setWithMessage(false);
            encoder.start();
            StderrBatchAppender json = new StderrBatchAppender();
            json.setName("JSON");
            json.setContext(context);
            json.setEncoder(encoder);
            json.start();
            root.addAppender(json);
            // Stopping the plain appender writes what it still holds before the JSON lines start.
            Appender<ILoggingEvent> plain = root.getAppender("STDERR");
            root.detachAppender("STDERR");
            if (plain != null) {
                plain.stop();
            }
        }
    }
}
