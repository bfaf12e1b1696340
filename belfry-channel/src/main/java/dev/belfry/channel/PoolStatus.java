package dev.belfry.channel;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of a {@link WarmPool} for diagnostics pages, metrics and tests.
 *
 * @param name the pool's name
 * @param state where it stands
 * @param want how many members it keeps
 * @param members how many members it has (connecting ones included)
 * @param healthy how many of them are healthy
 * @param opened how many members it has opened in its life
 * @param lastError the pool's last error, or {@code null} once it has been healthy since
 * @param addresses the addresses it knows, resolved or still carrying members
 * @param memberList each member's address and state
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
        List<MemberStatus> memberList) {

    /** Copies the lists. */
    public PoolStatus {
        addresses = List.copyOf(addresses);
        memberList = List.copyOf(memberList);
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
     */
    public record AddressStatus(
            String address, boolean resolved, int members, long nextAttemptNanos, List<RecordedError> errors) {
        /** Copies the list. */
        public AddressStatus {
            errors = List.copyOf(errors);
        }
    }

    /**
     * One member.
     *
     * @param id the member's number within the pool, in order of opening
     * @param address its address, as text
     * @param state {@code connecting}, {@code never healthy}, {@code healthy} or {@code unhealthy}
     * @param serving whether it takes requests now
     */
    public record MemberStatus(long id, String address, String state, boolean serving) {}
}
