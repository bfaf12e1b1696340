package dev.belfry.channel.http;

/**
 * A member's health request was answered with a status other than the expected one: the member is
 * unhealthy. The pool keeps its message among the address's last errors.
 */
final class UnhealthyStatusException extends Exception {
    private static final long serialVersionUID = 1L;

    UnhealthyStatusException(String path, int status, int expected) {
        super("health check GET " + path + " answered " + status + ", expected " + expected, null, false, false);
    }
}
