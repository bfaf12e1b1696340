package dev.belfry.compose;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A response that holds a resource: it counts its closes, so a run can tell whether a response no
 * caller received was released, and whether one a caller received was closed under it.
 */
final class Res implements AutoCloseable {
    final Req request;
    final int endpoint;
    final int serial;
    final AtomicInteger closes = new AtomicInteger();

    Res(Req request, int endpoint, int serial) {
        this.request = request;
        this.endpoint = endpoint;
        this.serial = serial;
    }

    @Override
    public void close() {
        closes.incrementAndGet();
    }

    @Override
    public String toString() {
        return "response #" + serial + " from e" + endpoint + " to " + request;
    }
}
