package dev.belfry.examples.users;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * The users table over JDBC. Every method blocks (JDBC does): {@link UsersApi} calls them on
 * virtual threads, never on an event loop. Counts the queries it runs, so the coalescing in front
 * of it can be measured.
 */
public final class UserStore {
    private static final String UNIQUE_VIOLATION = "23505";

    private final DataSource dataSource;
    private final AtomicLong queries = new AtomicLong();

    public UserStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Creates the schema if it is not there (the service's one migration). */
    public void migrate() throws SQLException {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS users ("
                    + " id BIGSERIAL PRIMARY KEY,"
                    + " name TEXT NOT NULL,"
                    + " email TEXT NOT NULL UNIQUE,"
                    + " created_at TIMESTAMPTZ NOT NULL DEFAULT now())");
        }
    }

    public Optional<User> find(long id) throws SQLException {
        queries.incrementAndGet();
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement =
                        connection.prepareStatement("SELECT id, name, email FROM users WHERE id = ?")) {
            statement.setLong(1, id);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? Optional.of(user(rows)) : Optional.empty();
            }
        }
    }

    /** Up to {@code limit} users in id order, starting after {@code afterId}. */
    public List<User> list(long afterId, int limit) throws SQLException {
        queries.incrementAndGet();
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement = connection.prepareStatement(
                        "SELECT id, name, email FROM users WHERE id > ? ORDER BY id LIMIT ?")) {
            statement.setLong(1, afterId);
            statement.setInt(2, limit);
            List<User> users = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    users.add(user(rows));
                }
            }
            return users;
        }
    }

    /** Adds a user and returns it with its id; a taken email is a {@link DuplicateEmailException}. */
    public User create(String name, String email) throws SQLException {
        queries.incrementAndGet();
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement = connection.prepareStatement(
                        "INSERT INTO users (name, email) VALUES (?, ?) RETURNING id, name, email")) {
            statement.setString(1, name);
            statement.setString(2, email);
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return user(rows);
            }
        } catch (SQLException e) {
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw new DuplicateEmailException(email);
            }
            throw e;
        }
    }

    /** Whether a user was deleted. */
    public boolean delete(long id) throws SQLException {
        queries.incrementAndGet();
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement = connection.prepareStatement("DELETE FROM users WHERE id = ?")) {
            statement.setLong(1, id);
            return statement.executeUpdate() == 1;
        }
    }

    /** A round trip to the database, for the health check. */
    public void ping() throws SQLException {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("SELECT 1");
        }
    }

    /** How many queries the API has run (not counting pings and the migration). */
    public long queries() {
        return queries.get();
    }

    private static User user(ResultSet rows) throws SQLException {
        return new User(rows.getLong("id"), rows.getString("name"), rows.getString("email"));
    }
}
