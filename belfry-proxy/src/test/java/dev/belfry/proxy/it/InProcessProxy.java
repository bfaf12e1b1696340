package dev.belfry.proxy.it;

import dev.belfry.proxy.ProxyServer;
import dev.belfry.proxy.config.ConfigLoader;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/** A {@link ProxyServer} in the test's JVM, from a config file, with an admin client. */
final class InProcessProxy implements AutoCloseable {
    private final Path file;
    private final ProxyServer server;
    private final AdminClient admin;

    private InProcessProxy(Path file, ProxyServer server) {
        this.file = file;
        this.server = server;
        this.admin = new AdminClient(Objects.requireNonNull(server.adminAddress(), "admin address"));
    }

    /** Writes {@code toml} to {@code file} and starts a proxy from it. */
    static InProcessProxy start(Path file, String toml) throws Exception {
        Files.writeString(file, toml);
        ProxyServer server = ProxyServer.of(file, ConfigLoader.load(file));
        try {
            server.start();
            return new InProcessProxy(file, server);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    ProxyServer server() {
        return server;
    }

    AdminClient admin() {
        return admin;
    }

    InetSocketAddress listener(String name) {
        return Objects.requireNonNull(server.address(name), name);
    }

    /** Writes {@code toml} to the file and reloads it as SIGHUP would; fails if it was rejected. */
    void reload(String toml) throws Exception {
        Files.writeString(file, toml);
        var result = server.reload();
        if (!result.ok()) {
            throw new AssertionError("reload rejected: " + result.problems());
        }
    }

    @Override
    public void close() {
        admin.close();
        server.close();
    }
}
