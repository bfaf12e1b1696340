package dev.belfry.channel;

/**
 * A {@link WarmPool}'s figures, read without waiting for its serial executor: what metrics scrapes
 * read. Each figure is current when read; figures read together may straddle a change.
 *
 * @param name the pool's name
 * @param state where it stands
 * @param target how many members it aims for: {@code want}, or more while grown
 * @param members how many members it has, connecting ones included
 * @param healthy how many members are healthy
 * @param serving how many members take requests
 * @param opened how many members it has opened in its life
 * @param stale whether the resolved answer in force is stale (a later resolution failed or was empty)
 * @param connectErrors connections that failed, in its life
 * @param healthFailures health probes that failed or timed out, in its life
 * @param resolutionFailures resolutions that failed, in its life
 */
public record PoolCounts(
        String name,
        PoolState state,
        int target,
        int members,
        int healthy,
        int serving,
        long opened,
        boolean stale,
        long connectErrors,
        long healthFailures,
        long resolutionFailures) {}
