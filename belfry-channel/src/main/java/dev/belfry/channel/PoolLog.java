package dev.belfry.channel;

/**
 * Where a {@link WarmPool} writes its warnings ("not healthy after 10s ...") and notices; a
 * strategy so tests can capture them. The default writes to {@link System.Logger} under {@code
 * dev.belfry.channel.WarmPool}.
 */
public interface PoolLog {

    /** A condition an operator should look at. */
    void warn(String message);

    /** A notable recovery. */
    void info(String message);

    /** Writes to {@link System.Logger} under {@code dev.belfry.channel.WarmPool}. */
    static PoolLog system() {
        System.Logger logger = System.getLogger(WarmPool.class.getName());
        return new PoolLog() {
            @Override
            public void warn(String message) {
                logger.log(System.Logger.Level.WARNING, message);
            }

            @Override
            public void info(String message) {
                logger.log(System.Logger.Level.INFO, message);
            }
        };
    }
}
