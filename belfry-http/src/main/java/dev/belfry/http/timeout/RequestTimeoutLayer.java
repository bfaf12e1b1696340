package dev.belfry.http.timeout;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.time.Clock;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Wraps a service in {@link RequestTimeout}: {@code RequestTimeoutLayer.of(Duration.ofSeconds(10))}
 * answers 503 after ten seconds on the system clock; {@link #builder} changes the status or clock.
 */
public final class RequestTimeoutLayer implements Layer<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    /** The status answered unless {@link Builder#status} says otherwise. */
    public static final int DEFAULT_STATUS = 503;

    private final Duration limit;
    private final int status;
    private final Clock clock;

    private RequestTimeoutLayer(Duration limit, int status, Clock clock) {
        this.limit = limit;
        this.status = status;
        this.clock = clock;
    }

    /** A timeout of {@code limit} answering {@value #DEFAULT_STATUS}, on the system clock. */
    public static RequestTimeoutLayer of(Duration limit) {
        return builder(limit).build();
    }

    /** A builder for a timeout of {@code limit}. */
    public static Builder builder(Duration limit) {
        return new Builder(Checks.positive(limit, "timeout"));
    }

    @Override
    public Service<HttpRequest, HttpResponse> wrap(Service<HttpRequest, HttpResponse> inner) {
        return new RequestTimeout(Checks.notNull(inner, "inner"), limit, status, clock);
    }

    /** Configures a {@link RequestTimeoutLayer}; each setting may be made once. Not thread-safe. */
    public static final class Builder {
        private final Duration limit;
        private @Nullable Integer status;
        private @Nullable Clock clock;

        private Builder(Duration limit) {
            this.limit = limit;
        }

        /** The status to answer with (default {@value RequestTimeoutLayer#DEFAULT_STATUS}); must be 4xx or 5xx. */
        public Builder status(int value) {
            Checks.notSetTwice(status, "status");
            if (value < 400 || value > 599) {
                throw new IllegalArgumentException("a timeout answers a 4xx or 5xx status, was " + value);
            }
            this.status = value;
            return this;
        }

        /** The clock that times requests (default {@link Clock#system()}). */
        public Builder clock(Clock value) {
            Checks.notSetTwice(clock, "clock");
            this.clock = Checks.notNull(value, "clock");
            return this;
        }

        public RequestTimeoutLayer build() {
            return new RequestTimeoutLayer(
                    limit, status != null ? status : DEFAULT_STATUS, clock != null ? clock : Clock.system());
        }
    }
}
