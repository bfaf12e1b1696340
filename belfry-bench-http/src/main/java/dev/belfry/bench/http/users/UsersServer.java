package dev.belfry.bench.http.users;

import com.zaxxer.hikari.HikariDataSource;
import dev.belfry.bench.http.PeerServer;
import dev.belfry.examples.users.Main;
import dev.belfry.examples.users.UsersService;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import javax.sql.DataSource;

/**
 * Starts one users service for the comparison on an existing PostgreSQL and keeps it running until
 * the process is stopped (SIGTERM).
 *
 * <pre>
 * java ... dev.belfry.bench.http.users.UsersServer belfry|armeria JDBC_URL HTTP_PORT GRPC_PORT STATS_PORT
 * </pre>
 *
 * <p>{@code belfry} is the examples' {@link UsersService} as shipped, except for its per-client rate
 * limit, raised to {@value #UNLIMITED} a second (one load generator is one client, and the shipped
 * 1000 a second would answer most of its requests 429); {@code armeria} is {@link ArmeriaUsers} with
 * as many event loops as the machine has cores (Belfry's HTTP server's default). Both use the
 * examples' pool ({@link Main#pool(String)}: 10 connections) and the write token in {@code
 * BELFRY_USERS_TOKEN}. The stats port answers as {@link PeerServer}'s does.
 */
public final class UsersServer {
    /** The per-client rate the Belfry service is given: more than any run here makes. */
    public static final long UNLIMITED = 1_000_000_000L;

    private UsersServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: UsersServer belfry|armeria JDBC_URL HTTP_PORT GRPC_PORT STATS_PORT");
            System.exit(2);
        }
        String impl = args[0].toLowerCase(Locale.ROOT);
        String token = System.getenv(Main.TOKEN_ENV);
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("set " + Main.TOKEN_ENV + " to the token writes need");
        }
        int httpPort = Integer.parseInt(args[2]);
        int grpcPort = Integer.parseInt(args[3]);
        HikariDataSource pool = Main.pool(args[1]);
        awaitDatabase(pool);
        AutoCloseable server = switch (impl) {
            case "belfry" ->
                UsersService.builder(pool)
                        .httpPort(httpPort)
                        .grpcPort(grpcPort)
                        .writeToken(token)
                        .rateLimit(UNLIMITED, Duration.ofSeconds(1))
                        .start();
            case "armeria" ->
                ArmeriaUsers.start(
                        pool, token, httpPort, grpcPort, Runtime.getRuntime().availableProcessors());
            default -> throw new IllegalArgumentException("unknown server " + impl);
        };
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("closing " + impl + ": " + e);
            }
            pool.close();
        }));
        System.out.println(impl + " users service: HTTP on 127.0.0.1:" + httpPort + ", gRPC on 127.0.0.1:" + grpcPort);
        PeerServer.serveStats(Integer.parseInt(args[4]));
    }

    /**
     * Waits for the pool's first connection, up to 30 attempts of the pool's 1 s wait: on a loaded
     * machine the first one can take longer than one wait, and the service would fail to migrate.
     */
    private static void awaitDatabase(DataSource pool) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try (Connection connection = pool.getConnection()) {
                return;
            } catch (SQLException e) {
                if (attempt == 30) {
                    throw e;
                }
            }
        }
    }
}
