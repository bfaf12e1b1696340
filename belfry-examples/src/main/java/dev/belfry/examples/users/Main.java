package dev.belfry.examples.users;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Runs the users service. With {@code BELFRY_DATABASE_URL} (a JDBC URL, with {@code
 * BELFRY_DATABASE_USER} and {@code BELFRY_DATABASE_PASSWORD}) it uses that PostgreSQL; without, it
 * starts an embedded one (real PostgreSQL binaries shipped in a Maven artifact) and stops it on exit.
 *
 * <p>{@code java ... dev.belfry.examples.users.Main [http-port [grpc-port]]} (default 8080 and
 * 9090), then for example {@code curl -H "authorization: Bearer $BELFRY_USERS_TOKEN" -d
 * '{"name":"Ada","email":"ada@example.com"}' localhost:8080/api/v1/users}. Writes need the bearer
 * token in {@code BELFRY_USERS_TOKEN}; without it, a random token is made and printed.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        int grpcPort = args.length > 1 ? Integer.parseInt(args[1]) : 9090;
        String token = token();
        String url = System.getenv("BELFRY_DATABASE_URL");
        EmbeddedPostgres embedded = url == null ? EmbeddedPostgres.builder().start() : null;
        try (HikariDataSource pool = pool(url, embedded);
                UsersService service = UsersService.builder(pool)
                        .httpPort(port)
                        .grpcPort(grpcPort)
                        .writeToken(token)
                        .start()) {
            System.out.println(
                    "users service on http://127.0.0.1:" + service.port() + "/api/v1/users, gRPC on 127.0.0.1:"
                            + service.grpcPort()
                            + (embedded == null ? "" : " (embedded PostgreSQL on port " + embedded.getPort() + ")"));
            if (System.getenv(TOKEN_ENV) == null) {
                System.out.println("writes need: -H 'authorization: Bearer " + token + "' (set " + TOKEN_ENV
                        + " to choose the token)");
            }
            Thread.currentThread().join();
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    /** The environment variable holding the bearer token writes need. */
    public static final String TOKEN_ENV = "BELFRY_USERS_TOKEN";

    /** The token from {@link #TOKEN_ENV}, else a random one for this run. */
    static String token() {
        String configured = System.getenv(TOKEN_ENV);
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        byte[] random = new byte[18];
        new java.security.SecureRandom().nextBytes(random);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }

    /** {@link #pool(String, EmbeddedPostgres)} on a JDBC URL that carries its own user. */
    public static HikariDataSource pool(String jdbcUrl) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        return configure(config);
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
        return configure(config);
    }

    private static HikariDataSource configure(HikariConfig config) {
        config.setPoolName("users");
        config.setMaximumPoolSize(10);
        config.setConnectionTimeout(Duration.ofSeconds(1).toMillis());
        config.setValidationTimeout(Duration.ofMillis(500).toMillis());
        // Start even while the database is down: /ready says so, and the pool connects when it is back.
        config.setInitializationFailTimeout(-1);
        return new HikariDataSource(config);
    }
}
