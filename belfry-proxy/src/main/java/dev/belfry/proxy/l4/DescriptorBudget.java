package dev.belfry.proxy.l4;

import io.netty.channel.Channel;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many proxied connections the process's file-descriptor limit can hold while keeping some
 * descriptors free for everything else: the admin server and its probes, health checks, backend
 * connects, DNS, logs and class loading. Each proxied connection takes two descriptors (client and
 * backend), three where the backends run in the same process (the demo).
 *
 * <p>At the budget the listeners stop accepting (connections wait in the kernel's backlog, as
 * HAProxy does at its {@code maxconn}) and start again once a few have closed. Without it the
 * listeners would take every descriptor the process has, and a liveness probe of the admin server
 * could find none left: a Kubernetes probe would then restart a proxy that is still relaying.
 *
 * <p>Thread-safe: checked on the event loops that accept, released on those that close.
 */
final class DescriptorBudget {
    private static final Logger LOG = LoggerFactory.getLogger(DescriptorBudget.class);

    /** The descriptors kept free: at least this many. */
    static final int MIN_RESERVED = 64;
    /** The descriptors kept free: at most this many, for very high limits. */
    static final int MAX_RESERVED = 1024;
    /** Accepting starts again this many connections below the budget, so it does not flap. */
    static final int RESUME_BELOW = 8;

    private final int maxConnections;
    private final long limit;
    private final long reserved;
    private final IntSupplier open;
    private final Set<Channel> servers = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean paused = new AtomicBoolean();

    private DescriptorBudget(int maxConnections, long limit, long reserved, IntSupplier open) {
        this.maxConnections = maxConnections;
        this.limit = limit;
        this.reserved = reserved;
        this.open = open;
    }

    /**
     * The budget of this process: its descriptor limit less the descriptors open now and the
     * reserve, halved; unlimited where the JVM cannot tell the limit.
     */
    static DescriptorBudget ofProcess(int perConnection, IntSupplier open) {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return of(unix.getMaxFileDescriptorCount(), unix.getOpenFileDescriptorCount(), perConnection, open);
        }
        return new DescriptorBudget(Integer.MAX_VALUE, -1, 0, open);
    }

    /**
     * The budget for a descriptor {@code limit} with {@code inUse} descriptors already open and
     * {@code perConnection} descriptors per proxied connection.
     */
    static DescriptorBudget of(long limit, long inUse, int perConnection, IntSupplier open) {
        if (limit <= 0 || limit >= Integer.MAX_VALUE) {
            return new DescriptorBudget(Integer.MAX_VALUE, limit, 0, open);
        }
        long reserved = Math.max(MIN_RESERVED, Math.min(MAX_RESERVED, limit / 20));
        long connections = Math.max(1, (limit - inUse - reserved) / perConnection);
        return new DescriptorBudget((int) Math.min(Integer.MAX_VALUE, connections), limit, reserved, open);
    }

    /** The most proxied connections open at once. */
    int maxConnections() {
        return maxConnections;
    }

    /** The process's descriptor limit, or -1 if unknown. */
    long limit() {
        return limit;
    }

    void listening(Channel server) {
        servers.add(server);
        if (paused.get()) {
            server.config().setAutoRead(false);
        }
    }

    void closed(Channel server) {
        servers.remove(server);
    }

    /**
     * Whether one more connection fits; if not, the listeners stop accepting (the caller closes
     * the connection it just accepted).
     */
    boolean admit() {
        if (open.getAsInt() < maxConnections) {
            return true;
        }
        if (paused.compareAndSet(false, true)) {
            LOG.warn(
                    "{} proxied connections hold the file descriptors this process may use (limit {}, {} kept free for"
                            + " the admin server, health checks and logs): not accepting new connections until some"
                            + " close; raise the limit (ulimit -n, LimitNOFILE) to proxy more",
                    maxConnections,
                    limit,
                    reserved);
            servers.forEach(server -> server.config().setAutoRead(false));
        }
        return false;
    }

    /** A proxied connection closed: accepting starts again once enough have. */
    void released() {
        int resumeAt = maxConnections - Math.max(1, Math.min(RESUME_BELOW, maxConnections / 4));
        if (paused.get() && open.getAsInt() <= resumeAt && paused.compareAndSet(true, false)) {
            LOG.info("accepting new connections again ({} proxied connections open)", open.getAsInt());
            servers.forEach(server -> server.config().setAutoRead(true));
        }
    }

    /** Whether the listeners are paused by this budget. */
    boolean paused() {
        return paused.get();
    }
}
