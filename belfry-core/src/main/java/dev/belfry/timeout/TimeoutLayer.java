package dev.belfry.timeout;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.time.Clock;
import java.time.Duration;

/** Applies a {@link Timeout} to every service it wraps. */
public final class TimeoutLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private final Duration limit;
    private final Clock clock;

    private TimeoutLayer(Duration limit, Clock clock) {
        this.limit = Checks.positive(limit, "timeout");
        this.clock = Checks.notNull(clock, "clock");
    }

    /** A timeout of {@code limit} on the system clock. */
    public static <Req, Res> TimeoutLayer<Req, Res> of(Duration limit) {
        return new TimeoutLayer<>(limit, Clock.system());
    }

    /** A timeout of {@code limit} on {@code clock}. */
    public static <Req, Res> TimeoutLayer<Req, Res> of(Duration limit, Clock clock) {
        return new TimeoutLayer<>(limit, clock);
    }

    @Override
    public Service<Req, Res> wrap(Service<Req, Res> inner) {
        return new Timeout<>(inner, limit, clock);
    }
}
