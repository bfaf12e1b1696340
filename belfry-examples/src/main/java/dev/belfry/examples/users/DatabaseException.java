package dev.belfry.examples.users;

import java.sql.SQLException;

/** A JDBC failure, unchecked so it can travel through the core's services. */
public final class DatabaseException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DatabaseException(SQLException cause) {
        super(cause.getMessage() + " (SQLState " + cause.getSQLState() + ")", cause);
    }
}
