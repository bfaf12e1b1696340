package dev.belfry.proxy;

import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.config.Addresses;
import dev.belfry.proxy.config.ConfigException;
import dev.belfry.proxy.config.ConfigLoader;
import dev.belfry.proxy.config.Durations;
import dev.belfry.proxy.config.ProxyConfig;
import dev.belfry.proxy.demo.DemoBackend;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code belfry demo}: the embedded default. Three demo HTTP backends on loopback, a TCP listener
 * balancing over them, the admin server; a self-test through the proxy; then it runs until Ctrl-C,
 * drains and exits 0.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "Runs the embedded demo: three HTTP backends on loopback, a TCP listener on "
                + "127.0.0.1:8080 balancing over them with health checks, and the admin server on "
                + "127.0.0.1:9901. Ctrl-C drains and exits 0.")
final class DemoCommand implements Callable<Integer> {
    static final String LISTEN = "127.0.0.1:8080";
    static final String ADMIN = "127.0.0.1:9901";

    @CommandLine.Option(
            names = "--listen",
            defaultValue = LISTEN,
            description = "Where the demo listener listens (default: ${DEFAULT-VALUE}).")
    String listen;

    @CommandLine.Option(
            names = "--admin",
            defaultValue = ADMIN,
            description = "Where the admin server listens (default: ${DEFAULT-VALUE}).")
    String admin;

    @CommandLine.Option(
            names = "--duration",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Drain and exit after this long (\"20s\", \"1m\", \"500ms\"; a bare number is seconds)"
                    + " instead of waiting for Ctrl-C.")
    @Nullable
    Duration duration;

    @CommandLine.Option(
            names = "--requests",
            paramLabel = "N",
            defaultValue = "6",
            description = "Requests the self-test sends through the proxy, each on a new connection; the first"
                    + " six are shown (default: ${DEFAULT-VALUE}). bin/belfry's ahead-of-time cache is trained"
                    + " with many.")
    int requests;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (requests < 1) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--requests must be at least 1, was " + requests);
        }
        // The proxy's own transport, so the demo (the launcher's ahead-of-time cache training run
        // among its uses) loads the classes of the one transport the proxy runs on.
        Transport transport = Transport.selectForRelay();
        EventLoopGroup backendLoops = transport.newEventLoopGroup(1, "belfry-demo-backends");
        List<DemoBackend> backends = new ArrayList<>();
        try {
            for (int i = 1; i <= 3; i++) {
                backends.add(DemoBackend.start(
                        "backend-" + i,
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                        backendLoops,
                        transport));
            }
            ProxyConfig config;
            try {
                config = ConfigLoader.parse(configText(backends), "<demo>");
            } catch (ConfigException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            ProxyServer server = ProxyServer.of(null, config);
            server.descriptorsPerConnection(3); // the demo's backends hold a descriptor per connection too
            CountDownLatch stop = new CountDownLatch(1);
            Runnable afterStart = () -> {
                introduce(out, server, backends, requests);
                Duration limit = duration;
                if (limit != null && !limit.isZero()) {
                    Thread.ofVirtual().start(() -> {
                        try {
                            if (!stop.await(limit.toNanos(), TimeUnit.NANOSECONDS)) {
                                out.println("demo: " + Durations.format(limit) + " passed; draining");
                                out.flush();
                                stop.countDown();
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                }
            };
            int status = RunCommand.serve(server, err, afterStart, stop);
            if (status == 0) {
                out.println("demo: drained and stopped");
                out.flush();
            }
            return status;
        } finally {
            backends.forEach(DemoBackend::close);
            backendLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    private String configText(List<DemoBackend> backends) {
        StringBuilder toml = new StringBuilder();
        toml.append("io_threads = 1\n\n[admin]\nlisten = \"").append(admin).append("\"\n\n");
        toml.append("[[listeners]]\nname = \"web\"\nlisten = \"").append(listen).append("\"\ncluster = \"demo\"\n\n");
        toml.append("[[clusters]]\nname = \"demo\"\nbalancer = \"round-robin\"\nconnect_timeout = \"1s\"\n");
        toml.append("drain_timeout = \"5s\"\n\n");
        toml.append("[clusters.health_check]\nkind = \"http\"\npath = \"/\"\ninterval = \"2s\"\ntimeout = \"1s\"\n\n");
        for (DemoBackend backend : backends) {
            toml.append("[[clusters.backends]]\naddress = \"")
                    .append(Addresses.format(backend.address()))
                    .append("\"\n\n");
        }
        return toml.toString();
    }

    /** One HTTP GET on a connection of its own (the proxy balances connections). */
    static String get(InetSocketAddress address) {
        try (Socket socket = new Socket()) {
            socket.connect(address, 2_000);
            socket.setSoTimeout(2_000);
            socket.getOutputStream()
                    .write(("GET / HTTP/1.1\r\nHost: " + Addresses.format(address) + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String status = response.lines().findFirst().orElse("(no response)");
            int body = response.indexOf("\r\n\r\n");
            return status.replace("HTTP/1.1 ", "")
                    + (body < 0 ? "" : " | " + response.substring(body + 4).strip());
        } catch (IOException e) {
            return "failed: " + e;
        }
    }

    private static void introduce(PrintWriter out, ProxyServer server, List<DemoBackend> backends, int requests) {
        InetSocketAddress web = server.address("web");
        InetSocketAddress adminAddress = server.adminAddress();
        String webUrl = "http://" + Addresses.format(web) + "/";
        String adminUrl = "http://" + Addresses.format(adminAddress) + "/";
        out.println("Belfry demo: an L4 (TCP) load-balancing proxy in front of three HTTP backends");
        out.println();
        for (DemoBackend backend : backends) {
            out.println("  backend   " + backend.name() + " on " + Addresses.format(backend.address()));
        }
        out.println(
                "  listener  web on " + Addresses.format(web) + " -> cluster demo (round robin, HTTP health checks)");
        out.println("  admin     " + adminUrl + "  (dashboard; also /live /ready /health /metrics)");
        out.println();
        out.println("Self-test, " + (requests == 6 ? "six" : requests) + " requests through the proxy:");
        int ok = 0;
        for (int i = 1; i <= requests; i++) {
            String answer = get(web);
            if (answer.startsWith("200 ")) {
                ok++;
            }
            if (i <= 6) {
                out.println("  " + i + ": " + answer);
            }
        }
        if (requests > 6) {
            out.println("  ... " + ok + " of " + requests + " answered 200 OK");
        }
        out.println();
        out.println("Try:  curl " + webUrl + "        (run it a few times: the backends take turns)");
        out.println("      curl " + adminUrl + "metrics");
        out.println("Open: " + adminUrl + " in a browser for the dashboard.");
        out.println("Press Ctrl-C to drain and stop.");
        out.flush();
    }

    /** Reads {@code --duration} in the config's syntax, so "20s" works as in a config file. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return Durations.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
