package dev.belfry.hedge;

/** The hedge listener that ignores every event. */
enum NoHedgeListener implements HedgeListener {
    INSTANCE;

    @Override
    public String toString() {
        return "HedgeListener.none()";
    }
}
