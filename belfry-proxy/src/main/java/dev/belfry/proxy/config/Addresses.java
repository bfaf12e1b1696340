package dev.belfry.proxy.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** Addresses as people read and write them: in the config, logs, metrics labels and the admin pages. */
public final class Addresses {
    private Addresses() {}

    /** Formats an address as written in the config: {@code host:port}, IPv6 in brackets. */
    public static String format(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        if (address.isUnresolved() || ip == null) {
            return address.getHostString() + ":" + address.getPort();
        }
        if (ip instanceof Inet6Address) {
            return "[" + compress(ip.getAddress()) + "]:" + address.getPort();
        }
        return ip.getHostAddress() + ":" + address.getPort();
    }

    /** RFC 5952 text for an IPv6 address: lower case, the longest run of zero groups as "::". */
    private static String compress(byte[] bytes) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1; // a single zero group stays "0"
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && groups[i] == 0) {
                i++;
            }
            if (i - start > bestLength) {
                bestStart = start;
                bestLength = i - start;
            }
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (!text.isEmpty() && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }
}
