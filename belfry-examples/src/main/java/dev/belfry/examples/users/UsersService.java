package dev.belfry.examples.users;

import dev.belfry.Services;
import dev.belfry.health.registry.Dependency;
import dev.belfry.health.registry.DependencyCheck;
import dev.belfry.health.registry.HealthRegistry;
import dev.belfry.http.accesslog.AccessLogLayer;
import dev.belfry.http.health.HealthRoutes;
import dev.belfry.http.requestid.RequestIdLayer;
import dev.belfry.http.router.Router;
import dev.belfry.http.server.HttpServer;
import dev.belfry.time.Clock;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * The users service put together: the API, {@code /health}, {@code /ready} and {@code /live} over
 * a health registry that pings the database, the request id and access log layers, on one HTTP
 * server (HTTP/1.1 and h2c).
 */
public final class UsersService implements AutoCloseable {
    public static final String VERSION = "0.1.0";

    private final UsersApi api;
    private final HealthRegistry health;
    private final HttpServer server;

    private UsersService(UsersApi api, HealthRegistry health, HttpServer server) {
        this.api = api;
        this.health = health;
        this.server = server;
    }

    /**
     * Migrates the schema, then serves on {@code host:port} (0 for any free port).
     *
     * @throws SQLException if the database cannot be reached to migrate
     */
    public static UsersService start(DataSource dataSource, String host, int port, Clock clock) throws SQLException {
        UserStore store = new UserStore(dataSource);
        store.migrate();
        UsersApi api = new UsersApi(store, clock);
        // The ping blocks (JDBC), so it runs on a virtual thread, never on the registry's timer.
        DependencyCheck ping = DependencyCheck.calling(
                Services.<Boolean, Boolean>blocking(ignored -> {
                    try {
                        store.ping();
                        return true;
                    } catch (SQLException e) {
                        throw new DatabaseException(e);
                    }
                }),
                true);
        HealthRegistry health = HealthRegistry.builder()
                .clock(clock)
                .dependency(Dependency.required("database", ping)
                        .withInterval(Duration.ofSeconds(2))
                        .withTimeout(Duration.ofSeconds(1)))
                .build();
        Router router = HealthRoutes.builder(health)
                .version(VERSION)
                .build()
                .addTo(api.addTo(Router.builder()))
                .layer(AccessLogLayer.create())
                .build();
        HttpServer server = HttpServer.builder(RequestIdLayer.create().wrap(router))
                .bind(host, port)
                .start();
        return new UsersService(api, health, server);
    }

    public int port() {
        return server.port();
    }

    public HealthRegistry health() {
        return health;
    }

    public UsersApi api() {
        return api;
    }

    /** Stops taking traffic ({@code /ready} turns 503), lets requests in flight finish, and stops. */
    @Override
    public void close() {
        health.drain();
        server.close();
        health.close();
        api.close();
    }
}
