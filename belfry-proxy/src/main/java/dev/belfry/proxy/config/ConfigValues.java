package dev.belfry.proxy.config;

import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Parsers for the value forms the configuration uses (durations, addresses, names), each throwing
 * {@link IllegalArgumentException} with a message that completes "KEY must be ...".
 */
final class ConfigValues {
    private ConfigValues() {}

    /** The longest duration accepted anywhere: longer values are typos, not intentions. */
    static final Duration MAX_DURATION = Duration.ofDays(365);

    static final String DURATION_FORMS = "a duration like \"250ms\", \"5s\", \"1.5s\", \"1m\" or \"1h\"";

    private static final Pattern DURATION = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)");
    private static final BigDecimal NANOS_PER_MILLI = BigDecimal.valueOf(1_000_000L);
    private static final BigDecimal NANOS_PER_SECOND = BigDecimal.valueOf(1_000_000_000L);

    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    private static final Pattern IPV4 = Pattern.compile(OCTET + "\\." + OCTET + "\\." + OCTET + "\\." + OCTET);
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private static final Pattern HOST_LABEL = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?");
    private static final Pattern NUMERIC_LABEL = Pattern.compile("[0-9]+");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    /**
     * Parses {@code "250ms"}, {@code "5s"}, {@code "1.5s"}, {@code "1m"} or {@code "1h"}: a
     * non-negative decimal number and one unit, nothing else (no spaces, signs or unit sums).
     */
    static Duration duration(String text) {
        Matcher matcher = DURATION.matcher(text);
        if (!matcher.matches()) {
            throw new IllegalArgumentException(DURATION_FORMS + ", was " + quote(text));
        }
        BigDecimal amount = new BigDecimal(matcher.group(1));
        BigDecimal nanos = switch (matcher.group(2)) {
            case "ms" -> amount.multiply(NANOS_PER_MILLI);
            case "s" -> amount.multiply(NANOS_PER_SECOND);
            case "m" -> amount.multiply(NANOS_PER_SECOND).multiply(BigDecimal.valueOf(60));
            default -> amount.multiply(NANOS_PER_SECOND).multiply(BigDecimal.valueOf(3600));
        };
        if (nanos.compareTo(BigDecimal.valueOf(MAX_DURATION.toNanos())) > 0) {
            throw new IllegalArgumentException("at most " + MAX_DURATION.toHours() + "h, was " + quote(text));
        }
        if (nanos.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException("a whole number of nanoseconds, was " + quote(text));
        }
        return Duration.ofNanos(nanos.longValueExact());
    }

    /** A host and port split from {@code HOST:PORT} or {@code [IPV6]:PORT}. */
    record HostPort(String host, int port, boolean bracketed) {}

    /** Splits {@code HOST:PORT} or {@code [IPV6]:PORT}; the port is 0 to 65535. */
    static HostPort hostPort(String text, String example) {
        String host;
        String port;
        boolean bracketed = text.startsWith("[");
        if (bracketed) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException(
                        "HOST:PORT with IPv6 in brackets, like \"[::1]:" + portOf(example) + "\", was " + quote(text));
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("HOST:PORT, like " + quote(example) + ", was " + quote(text));
            }
            if (text.indexOf(':') != colon) {
                throw new IllegalArgumentException(
                        "HOST:PORT with IPv6 in brackets, like \"[::1]:" + portOf(example) + "\", was " + quote(text));
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException(
                    "HOST:PORT with a host before the colon, like " + quote(example) + ", was " + quote(text));
        }
        return new HostPort(host, port(port, text), bracketed);
    }

    private static String portOf(String example) {
        return example.substring(example.lastIndexOf(':') + 1);
    }

    private static int port(String port, String text) {
        if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("HOST:PORT with a port from 0 to 65535, was " + quote(text));
        }
        int value = Integer.parseInt(port);
        if (value > 65_535) {
            throw new IllegalArgumentException("HOST:PORT with a port from 0 to 65535, was " + quote(text));
        }
        return value;
    }

    /**
     * Parses a listening address: a literal IPv4 or bracketed IPv6 address, {@code localhost} (the
     * loopback address) or {@code *} (every interface), and a port; port 0 picks a free port.
     */
    static InetSocketAddress listenAddress(String text) {
        HostPort hostPort = hostPort(text, LISTEN_EXAMPLE);
        return listenAddress(hostPort.host(), hostPort.port(), hostPort.bracketed(), text);
    }

    private static final String LISTEN_EXAMPLE = "0.0.0.0:8080";

    /** Parses a listening address given as a separate host and port (0 to 65535). */
    static InetSocketAddress listenAddress(String host, int port, boolean bracketed, String text) {
        if (!bracketed) {
            if (host.equals("*")) {
                return new InetSocketAddress(port);
            }
            if (host.equals("localhost")) {
                return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            }
        }
        InetAddress literal = ipLiteral(host, bracketed);
        if (literal == null) {
            throw new IllegalArgumentException("a literal IP address, \"localhost\" or \"*\" and a port, like "
                    + quote(LISTEN_EXAMPLE) + ", was " + quote(text) + " (listeners do not resolve names)");
        }
        return new InetSocketAddress(literal, port);
    }

    /**
     * Parses a backend address: a literal IP address or a host name, and a port from 1 to 65535.
     * Names are left unresolved ({@link InetSocketAddress#createUnresolved}): the connector resolves
     * them at connect time, so a backend whose name does not resolve yet does not stop the proxy.
     */
    static InetSocketAddress backendAddress(String text) {
        HostPort hostPort = hostPort(text, "127.0.0.1:9001");
        if (hostPort.port() == 0) {
            throw new IllegalArgumentException("HOST:PORT with a port from 1 to 65535, was " + quote(text));
        }
        return backendAddress(hostPort.host(), hostPort.port(), hostPort.bracketed(), text);
    }

    /** Parses a DNS server's address: a literal IP address (IPv6 in brackets) and a port. */
    static InetSocketAddress serverAddress(String text) {
        HostPort hostPort = hostPort(text, "127.0.0.1:53");
        InetAddress literal = ipLiteral(hostPort.host(), hostPort.bracketed());
        if (literal == null || hostPort.port() == 0) {
            throw new IllegalArgumentException(
                    "an IP address and a port from 1 to 65535, like \"127.0.0.1:8600\", was " + quote(text));
        }
        return new InetSocketAddress(literal, hostPort.port());
    }

    /** Parses a backend given as a separate host (IP address or name) and port (1 to 65535). */
    static InetSocketAddress backendAddress(String host, int port, boolean bracketed, String text) {
        InetAddress literal = ipLiteral(host, bracketed);
        if (literal != null) {
            return new InetSocketAddress(literal, port);
        }
        if (bracketed || !isHostName(host)) {
            throw new IllegalArgumentException("an IP address or a host name, was " + quote(text));
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** Whether {@code name} is a syntactically valid DNS host name (letters, digits, '-', '_'). */
    static boolean isHostName(String name) {
        String bare = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (bare.isEmpty() || bare.length() > 253) {
            return false;
        }
        String[] labels = bare.split("\\.", -1);
        for (String label : labels) {
            if (!HOST_LABEL.matcher(label).matches()) {
                return false;
            }
        }
        // An all-numeric last label is a mistyped IPv4 address ("10.0.0.300"), never a name.
        return !NUMERIC_LABEL.matcher(labels[labels.length - 1]).matches();
    }

    /**
     * The address {@code host} spells literally, or {@code null} if it is not a literal; never
     * consults DNS. IPv6 literals must have been in brackets (or a separate host field).
     */
    static @Nullable InetAddress ipLiteral(String host, boolean bracketed) {
        Matcher ipv4 = IPV4.matcher(host);
        if (ipv4.matches() && !bracketed) {
            byte[] bytes = new byte[4];
            for (int i = 0; i < 4; i++) {
                bytes[i] = (byte) Integer.parseInt(ipv4.group(i + 1));
            }
            return address(bytes);
        }
        if (IPV6_CHARS.matcher(host).matches()) {
            try {
                // Brackets make the JDK treat it as an IPv6 literal only: it never falls back to DNS.
                return InetAddress.getByName("[" + host + "]");
            } catch (UnknownHostException | IllegalArgumentException e) {
                throw new IllegalArgumentException("a valid IPv6 address, was " + quote(host), e);
            }
        }
        return null;
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are always an IPv4 address", e);
        }
    }

    /** Whether {@code name} may name a listener or cluster (it appears in logs and metric labels). */
    static boolean isName(String name) {
        return NAME.matcher(name).matches();
    }

    static final String NAME_FORMS = "1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit";

    /** Formats a duration the way the config writes it: "250ms", "5s", "1m", "1h", "1500ms". */
    static String format(Duration duration) {
        long nanos = duration.toNanos();
        if (nanos != 0 && nanos % 3_600_000_000_000L == 0) {
            return nanos / 3_600_000_000_000L + "h";
        } else if (nanos != 0 && nanos % 60_000_000_000L == 0) {
            return nanos / 60_000_000_000L + "m";
        } else if (nanos % 1_000_000_000L == 0) {
            return nanos / 1_000_000_000L + "s";
        } else if (nanos % 1_000_000L == 0) {
            return nanos / 1_000_000L + "ms";
        }
        return BigDecimal.valueOf(nanos, 6).stripTrailingZeros().toPlainString() + "ms";
    }

    /** The candidate closest to {@code input} by edit distance, if close enough to be a typo. */
    static @Nullable String closest(String input, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        int allowed = input.length() <= 2 ? 1 : input.length() <= 6 ? 2 : 3;
        for (String candidate : candidates) {
            int distance = distance(input.toLowerCase(java.util.Locale.ROOT), candidate);
            // Also closer than half the longer word: "udp" is not a typo of "tcp".
            boolean close = distance <= allowed && distance * 2 < Math.max(input.length(), candidate.length());
            if (close && distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        if (best == null && input.length() >= 3) {
            // A truncated key ("max_ejected" for "max_ejected_percent") is a typo too, if unambiguous.
            for (String candidate : candidates) {
                if (candidate.startsWith(input)) {
                    if (best != null) {
                        return null;
                    }
                    best = candidate;
                }
            }
        }
        return best;
    }

    /** Optimal string alignment distance: edits plus swaps of adjacent characters. */
    private static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    /** {@code text} in double quotes, with quotes, backslashes and control characters escaped. */
    static String quote(String text) {
        StringBuilder quoted = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> quoted.append("\\\"");
                case '\\' -> quoted.append("\\\\");
                case '\n' -> quoted.append("\\n");
                case '\t' -> quoted.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        quoted.append(String.format(java.util.Locale.ROOT, "\\u%04X", (int) c));
                    } else {
                        quoted.append(c);
                    }
                }
            }
        }
        return quoted.append('"').toString();
    }
}
