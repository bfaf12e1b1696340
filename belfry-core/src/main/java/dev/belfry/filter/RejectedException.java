package dev.belfry.filter;

import dev.belfry.Checks;
import dev.belfry.ServiceException;

/**
 * A filter refused the request; the message says why.
 *
 * <p>The request never reached the service behind the filter, yet this is deliberately not an
 * {@link dev.belfry.UnprocessedException}: a filter's decision is deterministic for a given
 * request, so retrying it would only be rejected again. Filters are free to throw any exception
 * instead; this one is the standard choice.
 */
public final class RejectedException extends ServiceException {
    private static final long serialVersionUID = 1L;

    /** A rejection whose message is {@code reason}. */
    public RejectedException(String reason) {
        super(Checks.notNull(reason, "reason"));
    }
}
