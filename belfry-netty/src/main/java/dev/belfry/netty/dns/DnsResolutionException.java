package dev.belfry.netty.dns;

import dev.belfry.Checks;
import org.jspecify.annotations.Nullable;

/**
 * A DNS lookup for a discovered name failed: the name does not exist, has no records, the server
 * failed, or no answer came in time.
 *
 * <p>Reported as {@link DnsDiscover.State#lastError()} and as the failure of {@link
 * DnsDiscover#start()}; the message names the host and the DNS error. The cause, when present, is
 * Netty's exception.
 */
public final class DnsResolutionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String host;
    private final Kind kind;

    /** Creates the exception for {@code host} failing with {@code kind}. */
    public DnsResolutionException(String host, Kind kind, @Nullable Throwable cause) {
        super("could not resolve " + host + ": " + kind + " (" + kind.description + ")", cause);
        this.host = Checks.notNull(host, "host");
        this.kind = Checks.notNull(kind, "kind");
    }

    /** The name that failed to resolve. */
    public String host() {
        return host;
    }

    /** What kind of failure it was. */
    public Kind kind() {
        return kind;
    }

    /** The kinds of DNS failure, as far as the resolver can tell them apart. */
    public enum Kind {
        /** The server answered that the name does not exist (rcode 3): an authoritative negative answer. */
        NXDOMAIN("the name does not exist"),
        /** The name exists but the answer held no address records (or the server refused the query). */
        NO_RECORDS("no address records in the answer"),
        /** The server failed to answer (rcode 2): usually transient, such as an unreachable upstream. */
        SERVFAIL("the server failed"),
        /** No answer arrived within the query timeout. */
        TIMEOUT("no answer within the query timeout"),
        /** Any other failure: a socket error, a malformed answer, a closed resolver. */
        OTHER("the lookup failed");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        /** A short explanation, as used in messages. */
        public String description() {
            return description;
        }
    }
}
