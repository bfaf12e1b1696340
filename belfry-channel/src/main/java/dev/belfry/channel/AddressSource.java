package dev.belfry.channel;

import dev.belfry.Checks;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Where a {@link WarmPool} learns the addresses it may connect to: a static list, an IP literal, or
 * a resolver that follows DNS TTLs.
 *
 * <p>A source reports each answer with {@link Resolution#addresses} and each failure with {@link
 * Resolution#failed}; the pool keeps the last non-empty answer when a later one fails or is empty.
 * Sources may report from any thread.
 *
 * @param <A> the address type
 */
@FunctionalInterface
public interface AddressSource<A> {

    /**
     * Starts reporting to {@code listener}; the returned handle stops it. A static source reports
     * once, at once.
     */
    AutoCloseable subscribe(Consumer<? super Resolution<A>> listener);

    /**
     * This source with each address turned into another by {@code mapper} (a resolved {@link
     * InetSocketAddress} into a {@link java.net.SocketAddress}, say); failures pass unchanged.
     */
    default <B> AddressSource<B> map(Function<? super A, ? extends B> mapper) {
        Checks.notNull(mapper, "mapper");
        AddressSource<A> self = this;
        return listener -> self.subscribe(resolution -> {
            Throwable failure = resolution.failure();
            listener.accept(
                    failure != null
                            ? Resolution.<B>failed(failure)
                            : Resolution.<B>addresses(resolution.addresses().stream()
                                    .<B>map(mapper)
                                    .toList()));
        });
    }

    /** A source that always answers {@code addresses}. */
    static <A> AddressSource<A> of(List<A> addresses) {
        List<A> fixed = List.copyOf(Checks.notNull(addresses, "addresses"));
        return listener -> {
            listener.accept(Resolution.addresses(fixed));
            return () -> {};
        };
    }

    /**
     * A static source for an IP literal and port, which needs no resolution ({@code "10.0.0.7"},
     * {@code "::1"} or {@code "[::1]"}).
     *
     * @throws IllegalArgumentException if {@code host} is a name rather than an IP literal: names
     *     need a resolving source
     */
    static AddressSource<InetSocketAddress> ipLiteral(String host, int port) {
        Checks.notNull(host, "host");
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (!isIpLiteral(bare)) {
            throw new IllegalArgumentException(
                    "'" + host + "' is not an IP literal; a host name needs a resolving address source");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, was " + port);
        }
        try {
            // A literal is parsed, never looked up.
            return of(List.of(new InetSocketAddress(InetAddress.getByName(bare), port)));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("'" + host + "' is not a valid IP literal", e);
        }
    }

    /** Whether {@code host} is an IPv4 dotted quad or an IPv6 literal (so needs no DNS). */
    static boolean isIpLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return host.matches("[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?");
        }
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) {
                return false;
            }
            if (Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }
}
