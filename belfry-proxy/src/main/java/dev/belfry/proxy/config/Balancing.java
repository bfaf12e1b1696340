package dev.belfry.proxy.config;

/** The balancing strategies a cluster may use, by their configuration names. */
public enum Balancing {
    ROUND_ROBIN("round-robin"),
    WEIGHTED_ROUND_ROBIN("weighted-round-robin"),
    WEIGHTED_RANDOM("weighted-random"),
    LEAST_CONNECTIONS("least-connections"),
    P2C_LEAST_LOADED("p2c-least-loaded"),
    P2C_PEAK_EWMA("p2c-peak-ewma"),
    CONSISTENT_HASH("consistent-hash");

    private final String configName;

    Balancing(String configName) {
        this.configName = configName;
    }

    /** The name used in the config file. */
    public String configName() {
        return configName;
    }
}
