package dev.belfry.examples.users;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.belfry.time.Clock;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Runs the users service. With {@code BELFRY_DATABASE_URL} (a JDBC URL, with {@code
 * BELFRY_DATABASE_USER} and {@code BELFRY_DATABASE_PASSWORD}) it uses that PostgreSQL; without, it
 * starts an embedded one (real PostgreSQL binaries shipped in a Maven artifact) and stops it on exit.
 *
 * <p>{@code java ... dev.belfry.examples.users.Main [port]} (default 8080), then for example {@code
 * curl -d '{"name":"Ada","email":"ada@example.com"}' localhost:8080/api/v1/users}.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        String url = System.getenv("BELFRY_DATABASE_URL");
        EmbeddedPostgres embedded = url == null ? EmbeddedPostgres.builder().start() : null;
        try (HikariDataSource pool = pool(url, embedded);
                UsersService service = UsersService.start(pool, "127.0.0.1", port, Clock.system())) {
            System.out.println("users service on http://127.0.0.1:" + service.port() + "/api/v1/users"
                    + (embedded == null ? "" : " (embedded PostgreSQL on port " + embedded.getPort() + ")"));
            Thread.currentThread().join();
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    /** A small HikariCP pool with short waits, so a database outage fails requests quickly. */
    static HikariDataSource pool(@Nullable String url, @Nullable EmbeddedPostgres embedded) throws IOException {
        HikariConfig config = new HikariConfig();
        if (url != null) {
            config.setJdbcUrl(url);
            config.setUsername(System.getenv("BELFRY_DATABASE_USER"));
            config.setPassword(System.getenv("BELFRY_DATABASE_PASSWORD"));
        } else if (embedded != null) {
            config.setJdbcUrl(embedded.getJdbcUrl("postgres", "postgres"));
        } else {
            throw new IOException("no database: set BELFRY_DATABASE_URL");
        }
        config.setPoolName("users");
        config.setMaximumPoolSize(10);
        config.setConnectionTimeout(Duration.ofSeconds(1).toMillis());
        config.setValidationTimeout(Duration.ofMillis(500).toMillis());
        // Start even while the database is down: /ready says so, and the pool connects when it is back.
        config.setInitializationFailTimeout(-1);
        return new HikariDataSource(config);
    }
}
