package dev.belfry.examples.degradation;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * An embedded PostgreSQL that can be stopped and started again on the same port and data: the
 * database of the degradation scenario. Thread-safe.
 */
public final class RestartableDatabase implements AutoCloseable {
    private final Path data;
    private final int port;
    private @Nullable EmbeddedPostgres running;

    private RestartableDatabase(Path data, int port) {
        this.data = data;
        this.port = port;
    }

    /** Creates a database in a temporary directory, on a free port, and starts it. */
    public static RestartableDatabase start() throws IOException {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        RestartableDatabase database = new RestartableDatabase(Files.createTempDirectory("belfry-postgres"), port);
        database.resume();
        return database;
    }

    /** A JDBC URL for the {@code postgres} database as user {@code postgres}. */
    public String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + port + "/postgres?user=postgres";
    }

    /** Stops the server (fast shutdown: connections are closed); the data stays. */
    public synchronized void stop() throws IOException {
        if (running != null) {
            running.close();
            running = null;
        }
    }

    /** Starts the server again on the same port and data; waits until it accepts connections. */
    public synchronized void resume() throws IOException {
        if (running == null) {
            running = EmbeddedPostgres.builder()
                    .setDataDirectory(data)
                    .setCleanDataDirectory(false)
                    .setPort(port)
                    .start();
        }
    }

    /** Stops the server and deletes its data. */
    @Override
    public synchronized void close() throws IOException {
        stop();
        try (Stream<Path> files = Files.walk(data)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> {
                try {
                    Files.delete(file);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
