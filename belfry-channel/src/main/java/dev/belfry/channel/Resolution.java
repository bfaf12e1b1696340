package dev.belfry.channel;

import dev.belfry.Checks;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One report from an {@link AddressSource}: either the addresses now resolved (possibly none) or
 * the failure that prevented an answer.
 *
 * @param addresses the resolved addresses; empty on failure
 * @param failure why resolution failed, or {@code null} if it answered
 * @param <A> the address type
 */
public record Resolution<A>(List<A> addresses, @Nullable Throwable failure) {

    /** Validates and copies. */
    public Resolution {
        addresses = List.copyOf(Checks.notNull(addresses, "addresses"));
        if (failure != null && !addresses.isEmpty()) {
            throw new IllegalArgumentException("a failed resolution carries no addresses");
        }
    }

    /** An answer. */
    public static <A> Resolution<A> addresses(List<A> addresses) {
        return new Resolution<>(addresses, null);
    }

    /** A failure. */
    public static <A> Resolution<A> failed(Throwable failure) {
        return new Resolution<>(List.of(), Checks.notNull(failure, "failure"));
    }
}
