package dev.belfry.bench.http.users;

import com.zaxxer.hikari.HikariDataSource;
import dev.belfry.examples.users.Main;
import dev.belfry.examples.users.UserStore;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one embedded PostgreSQL for the comparison, migrated with the examples' schema and seeded with
 * users 1 to N ({@code user-I}, {@code user-I@example.com}), until the process is stopped (SIGTERM).
 *
 * <pre>
 * java ... dev.belfry.bench.http.users.UsersDatabase PORT USERS
 * </pre>
 *
 * <p>Prints {@code ready JDBC_URL} once the rows are in.
 */
public final class UsersDatabase {
    private UsersDatabase() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: UsersDatabase PORT USERS");
            System.exit(2);
        }
        EmbeddedPostgres postgres =
                EmbeddedPostgres.builder().setPort(Integer.parseInt(args[0])).start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                postgres.close();
            } catch (java.io.IOException e) {
                System.err.println("stopping PostgreSQL: " + e);
            }
            stopped.countDown();
        }));
        String url = postgres.getJdbcUrl("postgres", "postgres");
        try (HikariDataSource pool = Main.pool(url)) {
            seed(pool, Integer.parseInt(args[1]));
        }
        System.out.println("ready " + url);
        stopped.await();
    }

    /** Creates the table and users 1 to {@code count}, in one statement. */
    public static void seed(javax.sql.DataSource dataSource, int count) throws SQLException {
        new UserStore(dataSource).migrate();
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO users (name, email)"
                        + " SELECT 'user-' || i, 'user-' || i || '@example.com' FROM generate_series(1, ?) AS i")) {
            insert.setInt(1, count);
            insert.executeUpdate();
        }
    }
}
