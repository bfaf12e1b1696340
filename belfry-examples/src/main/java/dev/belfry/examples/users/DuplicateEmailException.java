package dev.belfry.examples.users;

/** A user with this email exists already: the API's 409. */
public final class DuplicateEmailException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DuplicateEmailException(String email) {
        super("a user with email " + email + " exists already");
    }
}
