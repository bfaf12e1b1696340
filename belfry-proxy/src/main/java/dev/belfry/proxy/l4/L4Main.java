package dev.belfry.proxy.l4;

import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.config.AdminConfig;
import dev.belfry.proxy.config.BackendConfig;
import dev.belfry.proxy.config.Balancing;
import dev.belfry.proxy.config.ClusterConfig;
import dev.belfry.proxy.config.ListenerConfig;
import dev.belfry.proxy.config.LogConfig;
import dev.belfry.proxy.config.ProxyConfig;
import dev.belfry.proxy.config.ProxyProtocol;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;

/**
 * A bare L4 proxy for benchmarks, until {@code belfry run} exists: {@code --listen HOST:PORT
 * --backend HOST:PORT [--backend ...] [--io-threads N]}. Runs until the process is terminated,
 * then closes the engine.
 */
final class L4Main {
    private L4Main() {}

    public static void main(String[] args) throws InterruptedException, UnknownHostException {
        InetSocketAddress listen = null;
        List<BackendConfig> backends = new ArrayList<>();
        int ioThreads = 1;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--listen" -> listen = address(args[i + 1]);
                case "--backend" -> backends.add(new BackendConfig(address(args[i + 1]), 1));
                case "--io-threads" -> ioThreads = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (listen == null || backends.isEmpty()) {
            throw new IllegalArgumentException(
                    "usage: L4Main --listen HOST:PORT --backend HOST:PORT [--backend ...] [--io-threads N]");
        }
        // No logging configuration exists yet: keep Netty's DEBUG output out of a benchmark.
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.INFO);
        ProxyConfig config = new ProxyConfig(
                null,
                ioThreads,
                new AdminConfig(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9901)),
                List.of(new ListenerConfig(
                        "bench",
                        listen,
                        "backends",
                        ListenerConfig.DEFAULT_MAX_CONNECTIONS,
                        ListenerConfig.DEFAULT_IDLE_TIMEOUT,
                        ProxyProtocol.NONE)),
                List.of(new ClusterConfig(
                        "backends",
                        Balancing.ROUND_ROBIN,
                        ClusterConfig.DEFAULT_CONNECT_TIMEOUT,
                        ClusterConfig.DEFAULT_CONNECT_RETRIES,
                        ClusterConfig.DEFAULT_MAX_CONNECTIONS_PER_BACKEND,
                        ProxyProtocol.NONE,
                        ClusterConfig.DEFAULT_DRAIN_TIMEOUT,
                        null,
                        null,
                        backends,
                        null)),
                new LogConfig("info", false));
        L4Proxy proxy = L4Proxy.builder(config).build();
        proxy.start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            proxy.close();
            stopped.countDown();
        }));
        System.out.println("belfry l4 listening on " + proxy.address("bench") + " -> " + backends + ", transport "
                + Transport.selectForRelay().setting());
        stopped.await();
    }

    private static InetSocketAddress address(String hostPort) throws UnknownHostException {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(
                InetAddress.getAllByName(hostPort.substring(0, colon))[0],
                Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
