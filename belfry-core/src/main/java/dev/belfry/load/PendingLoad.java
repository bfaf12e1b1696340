package dev.belfry.load;

import dev.belfry.Service;

/** Reports the number of pending requests. */
final class PendingLoad<Req, Res> extends Tracked<Req, Res> {

    PendingLoad(Service<Req, Res> inner) {
        super(inner);
    }

    @Override
    public double load() {
        return pending();
    }

    @Override
    public String toString() {
        return "Load.pending[" + pending() + "]";
    }
}
