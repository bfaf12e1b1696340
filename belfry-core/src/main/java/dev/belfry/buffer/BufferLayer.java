package dev.belfry.buffer;

import dev.belfry.Checks;
import dev.belfry.Layer;
import dev.belfry.Service;

/** Puts a {@link Buffer} of a fixed capacity in front of every service it wraps. */
public final class BufferLayer<Req, Res> implements Layer<Req, Res, Req, Res> {
    private final int capacity;

    private BufferLayer(int capacity) {
        this.capacity = Checks.positive(capacity, "capacity");
    }

    /** A buffer holding at most {@code capacity} queued requests per wrapped service. */
    public static <Req, Res> BufferLayer<Req, Res> of(int capacity) {
        return new BufferLayer<>(capacity);
    }

    @Override
    public Service<Req, Res> wrap(Service<Req, Res> inner) {
        return new Buffer<>(inner, capacity);
    }
}
