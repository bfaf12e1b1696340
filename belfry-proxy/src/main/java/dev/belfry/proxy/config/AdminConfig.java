package dev.belfry.proxy.config;

import dev.belfry.Checks;
import java.net.InetSocketAddress;

/**
 * The admin server's settings.
 *
 * @param listen where it listens; loopback by default ({@code 127.0.0.1:9901})
 */
public record AdminConfig(InetSocketAddress listen) {
    public AdminConfig {
        Checks.notNull(listen, "admin.listen");
    }
}
