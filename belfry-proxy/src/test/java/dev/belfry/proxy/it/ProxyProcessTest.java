package dev.belfry.proxy.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.belfry.proxy.admin.JsonReader;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code belfry run} as a real child process: start-up, SIGTERM drain, SIGHUP reload, refusals.
 *
 * <p>The child cannot report the ports it bound, so the tests pick free ports by binding port 0
 * and closing the socket just before the child starts; another process could take one in that
 * moment (the test would then fail on start-up, naming the port), which on a test machine is rare.
 */
@Timeout(value = 60, unit = SECONDS)
class ProxyProcessTest {
    private static final Duration START = Duration.ofSeconds(20);
    // Low enough to run out with a hundred connections, high enough for the JVM to start.
    private static final int FILE_LIMIT = 160;
    // Every page of the admin server, each probed while the process is out of descriptors, and
    // a part of each answer's body.
    private static final List<String> PROBED = List.of("/live", "/ready", "/health", "/metrics", "/", "/live");
    private static final List<String> PROBED_BODY = List.of(
            "live\n", "ready\n", "\"listeners\":[", "belfry_backend_connect_failures_total", "</html>", "live\n");

    @TempDir
    Path dir;

    private LineBackend backend;
    private @Nullable Process process;
    private @Nullable AdminClient admin;
    private Path stderr;

    @BeforeEach
    void startBackend() throws IOException {
        backend = LineBackend.start("b1");
        stderr = dir.resolve("stderr.log");
    }

    @AfterEach
    void stopEverything() throws Exception {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, SECONDS);
        }
        if (admin != null) {
            admin.close();
        }
        backend.close();
    }

    @Test
    void sigtermDrainsLetsTheOpenConnectionFinishAndExitsZero() throws Exception {
        int[] ports = freePorts(2);
        Path config = write("belfry.toml", config(ports[0], ports[1], ""));
        InetSocketAddress web = loopback(ports[0]);
        start(config, ports[1]);

        try (Socket open = Clients.open(web)) {
            assertThat(Clients.ask(open, "one")).isEqualTo("b1:one");

            process.destroy(); // SIGTERM on Linux.
            await().atMost(10, SECONDS).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
                AdminClient.Answer ready = admin.get("/ready");
                assertThat(ready.status()).isEqualTo(503);
                assertThat(ready.body()).contains("draining");
            });
            await().atMost(10, SECONDS).pollInterval(Duration.ofMillis(20)).until(() -> refused(web));
            assertThat(process.isAlive())
                    .as("still draining while a connection is open")
                    .isTrue();

            assertThat(Clients.ask(open, "two")).isEqualTo("b1:two");
            open.shutdownOutput();
            assertThat(Clients.closedByPeer(open)).isTrue();
        }
        // drain_timeout is 20 s: exiting well within it means the drain saw the connection finish.
        assertThat(process.waitFor(15, SECONDS))
                .as("exited within the drain timeout")
                .isTrue();
        assertThat(process.exitValue()).isZero();
        assertThat(log()).contains("drained: every connection finished");
    }

    @Test
    void startedUnderNohupItSaysSighupWillNotReloadAndPostReloadStillDoes() throws Exception {
        int[] ports = freePorts(2);
        Path config = write("belfry.toml", config(ports[0], ports[1], ""));
        start(config, ports[1], List.of("nohup"));

        assertThat(log())
                .contains("SIGHUP is ignored by this process")
                .contains("reload with POST /reload")
                .doesNotContain("SIGTERM is ignored");
        Files.writeString(config, config(ports[0], ports[1], "max_connections = 7\n"));
        assertThat(admin.post("/reload").status()).isEqualTo(200);
    }

    @Test
    void jsonLogsHaveOneObjectPerClosedConnectionWithItsValuesFilledIn() throws Exception {
        int[] ports = freePorts(2);
        Path config = write("belfry.toml", config(ports[0], ports[1], "[log]\njson = true\n"));
        InetSocketAddress web = loopback(ports[0]);
        start(config, ports[1]);

        assertThat(Clients.exchange(web, "hello")).isEqualTo("b1:hello\n");
        await().atMost(10, SECONDS)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> log().contains("closed listener=web"));

        List<Map<?, ?>> objects = new ArrayList<>();
        log().lines()
                .filter(line -> line.startsWith("{"))
                .forEach(line -> objects.add((Map<?, ?>) JsonReader.parse(line)));
        Map<?, ?> closed = objects.stream()
                .filter(o -> "dev.belfry.proxy.l4.connections".equals(o.get("loggerName")))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no access log object in:\n" + objects));
        assertThat(closed.get("level")).isEqualTo("INFO");
        // "hello\n" went to the backend and "b1:hello\n" came back.
        assertThat((String) closed.get("formattedMessage"))
                .startsWith("closed listener=web client=127.0.0.1:")
                .contains("backend=app/" + backend.hostPort())
                .contains("bytes_from_client=6 bytes_from_backend=9")
                .doesNotContain("{}");
        assertThat(closed.get("message")).isNull();
        assertThat(log().lines().filter(line -> !line.isBlank())).allMatch(line -> line.startsWith("{"));
    }

    @Test
    void connectionsCutAtTheDrainTimeoutAreLoggedAsClosedByTheProxy() throws Exception {
        int[] ports = freePorts(2);
        Path config = write(
                "belfry.toml",
                config(ports[0], ports[1], "").replace("drain_timeout = \"20s\"", "drain_timeout = \"1s\""));
        InetSocketAddress web = loopback(ports[0]);
        start(config, ports[1]);
        int connections = 30;
        List<Socket> open = new ArrayList<>();
        try {
            for (int i = 0; i < connections; i++) {
                Socket socket = Clients.open(web);
                open.add(socket);
                assertThat(Clients.ask(socket, "c" + i)).isEqualTo("b1:c" + i);
            }
            process.destroy(); // SIGTERM: drain, then cut what is still open after 1 s
            assertThat(process.waitFor(15, SECONDS)).isTrue();
        } finally {
            for (Socket socket : open) {
                socket.close();
            }
        }
        assertThat(process.exitValue()).isZero();
        List<String> closed = log().lines()
                .filter(line -> line.contains("closed listener=web"))
                .toList();
        assertThat(closed).hasSize(connections);
        assertThat(closed).allMatch(line -> line.endsWith("reason=\"proxy closed\""));
    }

    @Test
    void sighupAppliesAGoodFileAndKeepsTheRunningConfigOnABadOne() throws Exception {
        int[] ports = freePorts(3);
        Path config = write("belfry.toml", config(ports[0], ports[1], ""));
        InetSocketAddress web = loopback(ports[0]);
        InetSocketAddress extra = loopback(ports[2]);
        start(config, ports[1]);
        assertThat(Clients.exchange(web, "a")).isEqualTo("b1:a\n");
        assertThat(refused(extra)).isTrue();

        // A good file: a second listener appears.
        String extraListener =
                "[[listeners]]\nname = \"extra\"\nlisten = \"127.0.0.1:" + ports[2] + "\"\ncluster = \"app\"\n";
        write("belfry.toml", config(ports[0], ports[1], extraListener));
        hangUp();
        await().atMost(10, SECONDS)
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() -> Clients.exchange(extra, "b").equals("b1:b\n"));
        assertThat(Clients.exchange(web, "c")).isEqualTo("b1:c\n");
        assertThat(admin.get("/health").body()).contains("\"ok\":true");

        // A bad file: rejected, named with line and column; the running config keeps serving.
        String bad = config(ports[0], ports[1], extraListener).replace("\"round-robin\"", "\"fastest\"");
        int line = lineOf(bad, "balancer = ");
        write("belfry.toml", bad);
        hangUp();
        await().atMost(10, SECONDS)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> admin.get("/health").body().contains("\"ok\":false"));
        String health = admin.get("/health").body();
        assertThat(health).contains(config + ":" + line + ":12: balancer must be one of");
        assertThat(Clients.exchange(web, "d")).isEqualTo("b1:d\n");
        assertThat(Clients.exchange(extra, "e")).isEqualTo("b1:e\n");
        await().atMost(5, SECONDS)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> log().contains(config + ":" + line + ":12: balancer must be one of"));
        assertThat(log()).contains("reload rejected, the running configuration stays");
        assertThat(process.isAlive()).isTrue();
    }

    @Test
    void pastItsFileDescriptorBudgetTheProxyPausesAcceptingTheAdminServerAnswersAndTheProxyRecovers() throws Exception {
        int[] ports = freePorts(2);
        Path config = write("belfry.toml", config(ports[0], ports[1], ""));
        InetSocketAddress web = loopback(ports[0]);
        start(config, ports[1], List.of("prlimit", "--nofile=" + FILE_LIMIT + ":" + FILE_LIMIT, "--"));
        assertThat(log()).containsPattern("file descriptor limit " + FILE_LIMIT + ": at most \\d+ proxied connections");
        // The paths a connection takes are loaded before the budget is reached.
        assertThat(Clients.backendOf(Clients.exchange(web, "warm"), "warm")).isEqualTo("b1");

        long base = openFiles(process.pid());
        // Each proxied connection takes two descriptors: ask for more than are left.
        int clients = (int) (FILE_LIMIT - base) / 2 + 40;
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                Socket socket = new Socket();
                held.add(socket);
                socket.connect(web, 2_000); // completed by the kernel's backlog even when not accepted
                socket.getOutputStream().write(("c" + i + "\n").getBytes(StandardCharsets.UTF_8));
            }
            await().atMost(20, SECONDS)
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> log().contains("not accepting new connections until some close"));
            assertThat(process.isAlive()).isTrue();
            assertThat(openFiles(process.pid()))
                    .as("descriptors left free by the budget")
                    .isLessThanOrEqualTo(FILE_LIMIT - 32);
            // Every page answers while the connections are held: the budget left descriptors free.
            for (int i = 0; i < PROBED.size(); i++) {
                try (Socket probe = new Socket()) {
                    probe.connect(loopback(ports[1]), 2_000);
                    probe.setSoTimeout(10_000);
                    probe.getOutputStream()
                            .write(("GET " + PROBED.get(i) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                                    .getBytes(StandardCharsets.US_ASCII));
                    String answer = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertThat(answer).as(PROBED.get(i)).startsWith("HTTP/1.1 200 OK");
                    assertThat(answer.substring(answer.indexOf("\r\n\r\n") + 4))
                            .as(PROBED.get(i))
                            .contains(PROBED_BODY.get(i));
                }
            }
            long cpuBefore = cpuTicks(process.pid());
            Thread.sleep(1_500); // the listeners stay paused for a while: they must not spin
            assertThat(cpuTicks(process.pid()) - cpuBefore)
                    .as("CPU ticks (1/100 s) while paused: accepting must not spin")
                    .isLessThan(50);
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
        }
        assertThat(log()).doesNotContain("accepting a connection failed");
        assertThat(log().length()).as("log size").isLessThan(64 * 1024);

        // Connections closed: new ones are accepted and relayed, the admin server answers.
        await().atMost(20, SECONDS)
                .pollInterval(Duration.ofMillis(100))
                .until(() -> "b1".equals(answeringBackend(web, "again")));
        assertThat(log()).contains("accepting new connections again");
        assertThat(admin.get("/live").status()).isEqualTo(200);
        assertThat(process.isAlive()).isTrue();
        // Sockets the proxy could not open are its own failures, not the backend's.
        assertThat(admin.get("/metrics").body())
                .contains("belfry_backend_connect_failures_total{backend=\"" + backend.hostPort()
                        + "\",cluster=\"app\"} 0.0");
        assertThat(log().lines().filter(line -> line.matches(".*(WARN|ERROR) +i\\.n\\..*")))
                .as("warnings from Netty")
                .isEmpty();
        assertThat(log()).doesNotContain("Exception in thread");
    }

    @Test
    void runWithABadConfigExitsOneAtOnceListingTheProblems() throws Exception {
        Path config = write("bad.toml", """
                [[listeners]]
                name = "web"
                listen = "127.0.0.1:80800"
                cluster = "nope"
                [[clusters]]
                name = "app"
                colour = "blue"
                """);
        Process child = launch(config);
        assertThat(child.waitFor(START.toSeconds(), SECONDS)).isTrue();
        assertThat(child.exitValue()).isEqualTo(1);
        assertThat(log())
                .contains(config + ":3:10: ")
                .contains(config + ":4:11: ")
                .contains(config + ":7:1: ")
                .contains("belfry: not started");
    }

    @Test
    void runWithAListenPortInUseExitsOneNamingTheListener() throws Exception {
        int[] ports = freePorts(1);
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path config = write("busy.toml", config(taken.getLocalPort(), ports[0], ""));
            Process child = launch(config);
            assertThat(child.waitFor(START.toSeconds(), SECONDS)).isTrue();
            assertThat(child.exitValue()).isEqualTo(1);
            assertThat(log())
                    .contains("listener web cannot listen on")
                    .contains(":" + taken.getLocalPort())
                    .contains("belfry: not started");
        }
        // Nothing stayed bound: the admin port is free again.
        assertThat(refused(loopback(ports[0]))).isTrue();
    }

    // ---- helpers ------------------------------------------------------------------------------

    private String config(int web, int adminPort, String more) {
        return "io_threads = 1\n"
                + "[admin]\nlisten = \"127.0.0.1:" + adminPort + "\"\n"
                + "[[listeners]]\nname = \"web\"\nlisten = \"127.0.0.1:" + web + "\"\ncluster = \"app\"\n"
                + more
                + "[[clusters]]\nname = \"app\"\nbalancer = \"round-robin\"\nconnect_timeout = \"1s\"\n"
                + "drain_timeout = \"20s\"\n"
                + "[[clusters.backends]]\naddress = \"" + backend.hostPort() + "\"\n";
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private Process launch(Path config) throws IOException {
        return launch(config, List.of());
    }

    /** Starts the proxy, through {@code wrapper} (a command such as nohup) if it is not empty. */
    private Process launch(Path config, List<String> wrapper) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(List.of(
                java,
                "--enable-native-access=ALL-UNNAMED",
                // A quick start for a short-lived test JVM.
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.belfry.proxy.Main",
                "run",
                "--config",
                config.toString()));
        process = new ProcessBuilder(command)
                .redirectOutput(dir.resolve("stdout.log").toFile())
                .redirectError(stderr.toFile())
                .start();
        return process;
    }

    private void start(Path config, int adminPort) throws IOException {
        start(config, adminPort, List.of());
    }

    private void start(Path config, int adminPort, List<String> wrapper) throws IOException {
        Process child = launch(config, wrapper);
        admin = new AdminClient(loopback(adminPort));
        await().atMost(START).pollInterval(Duration.ofMillis(50)).until(() -> {
            if (!child.isAlive()) {
                throw new AssertionError("the proxy exited with " + child.exitValue() + ":\n" + log());
            }
            return admin.get("/ready").status() == 200;
        });
    }

    private void hangUp() throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", String.valueOf(process.pid()))
                .redirectErrorStream(true)
                .start();
        assertThat(kill.waitFor(5, SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    private String log() throws IOException {
        return Files.exists(stderr) ? Files.readString(stderr, StandardCharsets.UTF_8) : "";
    }

    /** Whether a connect to {@code address} is refused; a connection that opens is closed at once. */
    private static boolean refused(InetSocketAddress address) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(address, 2_000);
            return false;
        } catch (ConnectException e) {
            return true;
        }
    }

    /** The backend that answered {@code line} on a new connection, or null if none did. */
    private static @Nullable String answeringBackend(InetSocketAddress proxy, String line) {
        try {
            return Clients.backendOf(Clients.exchange(proxy, line), line);
        } catch (IOException e) {
            return null;
        }
    }

    /** utime + stime of process {@code pid}, in clock ticks (1/100 s on Linux). */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        // Fields after the command name, which is in parentheses and may contain spaces.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    private static long openFiles(long pid) throws IOException {
        try (var files = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
            return files.count();
        }
    }

    private static int lineOf(String text, String start) {
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].startsWith(start)) {
                return i + 1;
            }
        }
        throw new AssertionError("no line starts with " + start);
    }

    /** Distinct ports free a moment ago (all are held at once, so none repeats). */
    private static int[] freePorts(int n) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : held) {
                socket.close();
            }
        }
    }

    private static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }
}
