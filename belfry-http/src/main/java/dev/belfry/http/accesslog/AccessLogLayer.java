package dev.belfry.http.accesslog;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.Headers;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.time.Clock;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Wraps a service in {@link AccessLog}. Defaults ({@link #create()}): logger {@value #LOGGER} at
 * INFO, 5xx and failures at WARN, headers not logged (when they are, {@link #SENSITIVE} values are
 * redacted), request id from the request id layer or the {@code x-request-id} header, the system
 * clock.
 */
public final class AccessLogLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    /** The logger name {@link #create()} writes to. */
    public static final String LOGGER = "dev.belfry.http.access";

    /** Headers whose values are always redacted when headers are logged. */
    public static final Set<String> SENSITIVE = Set.of("authorization", "proxy-authorization", "cookie", "set-cookie");

    private final Logger logger;
    private final Level level;
    private final Level errorLevel;
    private final boolean logHeaders;
    private final Set<String> redact;
    private final String requestIdHeader;
    private final Clock clock;

    private AccessLogLayer(Builder b) {
        this.logger = b.logger != null ? b.logger : LoggerFactory.getLogger(LOGGER);
        this.level = b.level != null ? b.level : Level.INFO;
        this.errorLevel = b.errorLevel != null ? b.errorLevel : Level.WARN;
        this.logHeaders = b.logHeaders;
        this.redact = Set.copyOf(b.redact);
        this.requestIdHeader = b.requestIdHeader != null ? b.requestIdHeader : "x-request-id";
        this.clock = b.clock != null ? b.clock : Clock.system();
    }

    /** The defaults above. */
    public static AccessLogLayer create() {
        return builder().build();
    }

    /** A builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new AccessLog(Checks.notNull(inner, "inner"), this);
    }

    Logger logger() {
        return logger;
    }

    Level level() {
        return level;
    }

    Level errorLevel() {
        return errorLevel;
    }

    boolean logHeaders() {
        return logHeaders;
    }

    String requestIdHeader() {
        return requestIdHeader;
    }

    Clock clock() {
        return clock;
    }

    /** The headers as {@code [name: value, ...]}, sensitive values replaced by {@code [redacted]}. */
    String redacted(Headers headers) {
        StringBuilder out = new StringBuilder("[");
        headers.forEach((name, value) -> {
            if (out.length() > 1) {
                out.append(", ");
            }
            out.append(name).append(": ").append(redact.contains(name) ? "[redacted]" : value);
        });
        return out.append(']').toString();
    }

    /** Collects settings; each may be made once. Not thread-safe. */
    public static final class Builder {
        private @Nullable Logger logger;
        private @Nullable Level level;
        private @Nullable Level errorLevel;
        private boolean logHeaders;
        private final Set<String> redact = new LinkedHashSet<>(SENSITIVE);
        private boolean redactSet;
        private @Nullable String requestIdHeader;
        private @Nullable Clock clock;

        private Builder() {}

        /** The logger to write to (default {@value AccessLogLayer#LOGGER}). */
        public Builder logger(Logger value) {
            Checks.notSetTwice(logger, "logger");
            logger = Checks.notNull(value, "logger");
            return this;
        }

        /** The level of ordinary lines (default INFO). */
        public Builder level(Level value) {
            Checks.notSetTwice(level, "level");
            level = Checks.notNull(value, "level");
            return this;
        }

        /** The level of 5xx and failed exchanges (default WARN). */
        public Builder errorLevel(Level value) {
            Checks.notSetTwice(errorLevel, "errorLevel");
            errorLevel = Checks.notNull(value, "errorLevel");
            return this;
        }

        /** Logs request and response headers, with sensitive values redacted (default off). */
        public Builder logHeaders() {
            if (logHeaders) {
                throw new IllegalStateException("logHeaders was already set");
            }
            logHeaders = true;
            return this;
        }

        /** More header names whose values are redacted, beyond {@link AccessLogLayer#SENSITIVE}. */
        public Builder redact(String... names) {
            if (redactSet) {
                throw new IllegalStateException("redact was already set");
            }
            redactSet = true;
            for (String name : names) {
                Headers.of(Checks.notNull(name, "header name"), ""); // rejects a name that is not a token
                redact.add(name.toLowerCase(Locale.ROOT));
            }
            return this;
        }

        /** Where to read the request id when the request id layer did not set one. */
        public Builder requestIdHeader(String name) {
            Checks.notSetTwice(requestIdHeader, "requestIdHeader");
            Headers.of(Checks.notNull(name, "requestIdHeader"), "");
            requestIdHeader = name.toLowerCase(Locale.ROOT);
            return this;
        }

        /** The clock that times exchanges (default the system clock). */
        public Builder clock(Clock value) {
            Checks.notSetTwice(clock, "clock");
            clock = Checks.notNull(value, "clock");
            return this;
        }

        public AccessLogLayer build() {
            return new AccessLogLayer(this);
        }
    }
}
