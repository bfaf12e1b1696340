package dev.belfry.load;

import dev.belfry.Service;

/** Reports the same load always. */
final class ConstantLoad<Req, Res> extends Tracked<Req, Res> {
    private final double value;

    ConstantLoad(Service<Req, Res> inner, double value) {
        super(inner);
        this.value = value;
    }

    @Override
    public double load() {
        return value;
    }

    @Override
    public String toString() {
        return "Load.constant[" + value + "]";
    }
}
