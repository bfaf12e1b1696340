package dev.belfry.netty.check;

/** An HTTP health check was answered with a status other than the expected one. */
public final class UnexpectedStatusException extends CheckFailedException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final int expected;

    /** The endpoint answered {@code statusLine} (status {@code status}) where {@code expected} passes. */
    public UnexpectedStatusException(String statusLine, int status, int expected) {
        super("health check answered '" + statusLine + "', expected " + expected);
        this.status = status;
        this.expected = expected;
    }

    /** The status the endpoint answered. */
    public int status() {
        return status;
    }

    /** The status that would have passed. */
    public int expected() {
        return expected;
    }
}
