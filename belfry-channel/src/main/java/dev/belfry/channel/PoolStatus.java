package dev.belfry.channel;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of a {@link WarmPool} for diagnostics pages, metrics and tests.
 *
 * @param name the pool's name
 * @param state where it stands
 * @param want how many members it keeps (its setting)
 * @param members how many members it has (connecting ones included)
 * @param healthy how many of them are healthy
 * @param opened how many members it has opened in its life
 * @param lastError the pool's last error, or {@code null} once it has been healthy since
 * @param addresses the addresses it knows, resolved or still carrying members
 * @param memberList each member's address and state
 * @param nanoTime when the snapshot was taken, on the pool's clock (the base of every {@link
 *     RecordedError}'s times and of {@link AddressStatus#nextAttemptNanos})
 * @param target how many members it aims for now: {@code want}, or more while grown
 * @param serving how many members take requests now
 * @param stale whether the answer in force is stale: a later resolution failed or was empty
 * @param resolutionError the last resolution failure (kept after recovery), or {@code null} if none
 */
public record PoolStatus(
        String name,
        PoolState state,
        int want,
        int members,
        int healthy,
        long opened,
        @Nullable String lastError,
        List<AddressStatus> addresses,
        List<MemberStatus> memberList,
        long nanoTime,
        int target,
        int serving,
        boolean stale,
        @Nullable RecordedError resolutionError) {

    /** Copies the lists. */
    public PoolStatus {
        addresses = List.copyOf(addresses);
        memberList = List.copyOf(memberList);
    }

    /** A snapshot without the figures added later (time 0, target {@code want}, none serving, fresh). */
    public PoolStatus(
            String name,
            PoolState state,
            int want,
            int members,
            int healthy,
            long opened,
            @Nullable String lastError,
            List<AddressStatus> addresses,
            List<MemberStatus> memberList) {
        this(name, state, want, members, healthy, opened, lastError, addresses, memberList, 0, want, 0, false, null);
    }

    /**
     * One address.
     *
     * @param address the address, as text
     * @param resolved whether the last answer of the address source contained it
     * @param members how many members are on it
     * @param nextAttemptNanos when a new connection to it may start (clock nanos), or {@code 0} for
     *     at once
     * @param errors its last three errors, oldest first
     * @param stale whether it is resolved only by a stale answer (a later resolution failed or was
     *     empty)
     */
    public record AddressStatus(
            String address,
            boolean resolved,
            int members,
            long nextAttemptNanos,
            List<RecordedError> errors,
            boolean stale) {
        /** Copies the list. */
        public AddressStatus {
            errors = List.copyOf(errors);
        }

        /** An address of a fresh answer. */
        public AddressStatus(
                String address, boolean resolved, int members, long nextAttemptNanos, List<RecordedError> errors) {
            this(address, resolved, members, nextAttemptNanos, errors, false);
        }
    }

    /**
     * One member.
     *
     * @param id the member's number within the pool, in order of opening
     * @param address its address, as text
     * @param state {@code connecting}, {@code never healthy}, {@code healthy}, {@code unhealthy}, or
     *     {@code draining} (dropped, finishing its requests in flight before it is closed)
     * @param serving whether it takes requests now
     * @param inflight requests it has in flight through the pool now (0 when not serving)
     */
    public record MemberStatus(long id, String address, String state, boolean serving, int inflight) {

        /** A member with no in-flight count. */
        public MemberStatus(long id, String address, String state, boolean serving) {
            this(id, address, state, serving, 0);
        }
    }
}
