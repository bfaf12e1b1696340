package dev.belfry.channel.socket;

import dev.belfry.Checks;
import dev.belfry.channel.AddressSource;
import dev.belfry.channel.dns.DnsAddressSource;
import java.net.SocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Where a channel connects, written as text: {@code unix:/run/users.sock} (a unix domain socket),
 * {@code 10.0.0.7:8080} or {@code [::1]:8080} (an IP literal, static) or {@code users.internal:8080}
 * (a host name, resolved through DNS with its TTLs). Parsed eagerly, so a bad target fails at
 * start-up with a message saying what is wrong.
 *
 * <pre>{@code
 * AddressSource<SocketAddress> source = SocketTarget.parse(config.target()).source();
 * WarmPool<SocketAddress, Req, Res> pool = WarmPool.builder("users", source, connector).build();
 * }</pre>
 *
 * <p>A {@code unix:} target is one static address (a {@link java.net.UnixDomainSocketAddress});
 * {@link DomainSockets} gives the channel class and address form each transport connects with.
 *
 * @param text the target as written
 * @param path the socket path of a {@code unix:} target, else {@code null}
 * @param host the host of a network target (IP literal or name, without brackets), else {@code null}
 * @param port the port of a network target, else 0
 */
public record SocketTarget(
        String text, @Nullable String path, @Nullable String host, int port) {
    private static final String UNIX = "unix:";

    /**
     * Parses {@code target}.
     *
     * @throws IllegalArgumentException naming what is wrong: an empty or too long socket path, a
     *     missing or bad port, an empty host
     */
    public static SocketTarget parse(String target) {
        Checks.notNull(target, "target");
        String text = target.strip();
        if (text.startsWith(UNIX)) {
            String path = text.substring(UNIX.length());
            // unix:///run/x.sock (URI style) means /run/x.sock too.
            if (path.startsWith("//")) {
                path = path.substring(2);
            }
            if (path.isEmpty()) {
                throw new IllegalArgumentException("target '" + target + "' has no socket path after unix:");
            }
            DomainSockets.address(path); // validates the length
            return new SocketTarget(text, path, null, 0);
        }
        int colon = text.lastIndexOf(':');
        if (colon < 0 || (text.indexOf(':') != colon && !text.startsWith("["))) {
            throw new IllegalArgumentException(
                    "target '" + target + "' must be host:port, [ipv6]:port or unix:/path/to/socket");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("target '" + target + "' has no host");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "target '" + target + "' has a bad port '" + text.substring(colon + 1) + "'", e);
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("target '" + target + "' has port " + port + "; it must be 1 to 65535");
        }
        return new SocketTarget(text, null, host, port);
    }

    /** Whether this is a {@code unix:} target. */
    public boolean isUnix() {
        return path != null;
    }

    /**
     * The addresses of this target: one static unix address, one static IP address, or a host's
     * addresses from DNS ({@link DnsAddressSource#of}, TTL floor 10 s).
     */
    public AddressSource<SocketAddress> source() {
        String socketPath = path;
        if (socketPath != null) {
            return AddressSource.of(List.of(DomainSockets.address(socketPath)));
        }
        return DnsAddressSource.of(Checks.notNull(host, "host"), port).map(address -> address);
    }

    @Override
    public String toString() {
        return text;
    }
}
