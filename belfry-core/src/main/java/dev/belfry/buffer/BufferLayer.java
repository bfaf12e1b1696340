package dev.belfry.buffer;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;
import dev.belfry.time.Clock;

/** Puts a {@link Buffer} of a fixed capacity in front of every service it wraps. */
public final class BufferLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private final int capacity;
    private final Clock clock;

    private BufferLayer(int capacity, Clock clock) {
        this.capacity = Checks.positive(capacity, "capacity");
        this.clock = Checks.notNull(clock, "clock");
    }

    /** A buffer holding at most {@code capacity} queued requests per wrapped service, on the system clock. */
    public static <Req, Res> BufferLayer<Req, Res> of(int capacity) {
        return new BufferLayer<>(capacity, Clock.system());
    }

    /**
     * A buffer holding at most {@code capacity} queued requests per wrapped service; {@code clock}
     * paces its rechecks of an inner service that says it is ready but refuses.
     */
    public static <Req, Res> BufferLayer<Req, Res> of(int capacity, Clock clock) {
        return new BufferLayer<>(capacity, clock);
    }

    @Override
    public Service<Req, Res> wrap(Service<Req, Res> inner) {
        return new Buffer<>(inner, capacity, clock);
    }
}
