package dev.belfry.grpc.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The warm gRPC channel beside grpc-java's own, in one run: starts {@link BenchServers} in this JVM,
 * then for each round runs each client ({@code belfry}, {@code round_robin}, {@code pick_first}) in
 * a JVM of its own ({@link BenchClient}), collects its figures and prints each round's table and
 * the medians over the rounds as Markdown. Run by {@code bench/channel-compare.sh}, not by the
 * tests.
 *
 * <p>System properties (defaults in brackets): {@code duration} [5] and {@code warmup} [3] seconds,
 * {@code rounds} [3], {@code dnsTtl} [2] seconds, {@code inFlight} [64], {@code clients} [belfry,
 * round_robin,pick_first], {@code scenarios} [throughput,slow,kill,not_serving,startup,dns], {@code
 * clientOpts} [-Xms256m -Xmx1g]: the client JVMs' options, the same for every client; {@code
 * slowRate} [2000] calls/s offered in the slow scenario's open loop, {@code rateMaxInFlight} [1000]
 * its cap on calls outstanding; {@code work}
 * [a new temporary directory]: where the client JVMs' logs go.
 */
public final class ChannelCompare {
    private static final List<String> ORDER = List.of(
            "throughput.calls_per_s",
            "throughput.cpu_us_per_call",
            "throughput.p50_ms",
            "throughput.p99_ms",
            "slow.p50_ms",
            "slow.p99_ms",
            "slow.calls_per_s",
            "slow_rate.p50_ms",
            "slow_rate.p99_ms",
            "slow_rate.p999_ms",
            "slow_rate.cpu_us_per_call",
            "slow_rate.failed",
            "kill.failed",
            "not_serving.last_call_ms",
            "startup.first_success_ms",
            "startup.first_call_after_500ms_ms",
            "dns.new_address_ms");

    private static final Map<String, String> LABELS = Map.ofEntries(
            Map.entry("throughput.calls_per_s", "a) calls/s, 3 healthy servers"),
            Map.entry("throughput.cpu_us_per_call", "a) client CPU µs per call"),
            Map.entry("throughput.p50_ms", "a) p50 ms"),
            Map.entry("throughput.p99_ms", "a) p99 ms"),
            Map.entry("slow.p50_ms", "b) one server +20 ms, closed loop: p50 ms"),
            Map.entry("slow.p99_ms", "b) one server +20 ms, closed loop: p99 ms"),
            Map.entry("slow.calls_per_s", "b) one server +20 ms, closed loop: calls/s"),
            Map.entry("slow_rate.p50_ms", "b) one server +20 ms, fixed rate: p50 ms"),
            Map.entry("slow_rate.p99_ms", "b) one server +20 ms, fixed rate: p99 ms"),
            Map.entry("slow_rate.p999_ms", "b) one server +20 ms, fixed rate: p99.9 ms"),
            Map.entry("slow_rate.cpu_us_per_call", "b) fixed rate: client CPU µs per call"),
            Map.entry("slow_rate.failed", "b) fixed rate: failed or over the cap"),
            Map.entry("kill.failed", "c) one server killed: failed calls"),
            Map.entry("not_serving.last_call_ms", "d) NOT_SERVING: ms until its last call"),
            Map.entry("startup.first_success_ms", "e) build → first success, ms"),
            Map.entry("startup.first_call_after_500ms_ms", "e) first call 0.5 s after build, ms"),
            Map.entry("dns.new_address_ms", "f) DNS change: ms until new address serves"));

    private static final Map<String, String> GOALS = Map.of(
            "throughput.calls_per_s", "≥ round_robin",
            "throughput.cpu_us_per_call", "≤ round_robin",
            "slow_rate.p99_ms", "≤ ½ round_robin",
            "kill.failed", "0",
            "not_serving.last_call_ms", "≤ 9000 (one interval)");

    // The client JVM running now, ended if this JVM is stopped (Ctrl-C, the script's trap).
    private static volatile @Nullable Process current;

    // The servers' transports log each connection a crash resets; kept referenced so the level holds.
    private static final Logger GRPC_LOG = Logger.getLogger("io.grpc");

    private ChannelCompare() {}

    public static void main(String[] args) throws Exception {
        double duration = Double.parseDouble(System.getProperty("duration", "5"));
        double warmup = Double.parseDouble(System.getProperty("warmup", "3"));
        int rounds = Integer.parseInt(System.getProperty("rounds", "3"));
        long dnsTtl = Long.parseLong(System.getProperty("dnsTtl", "2"));
        int inFlight = Integer.parseInt(System.getProperty("inFlight", "64"));
        double slowRate = Double.parseDouble(System.getProperty("slowRate", "2000"));
        int rateMaxInFlight = Integer.parseInt(System.getProperty("rateMaxInFlight", "1000"));
        List<String> clients = List.of(
                System.getProperty("clients", "belfry,round_robin,pick_first").split(",", -1));
        String scenarios = System.getProperty("scenarios", "throughput,slow,kill,not_serving,startup,dns");
        List<String> clientOpts = List.of(
                System.getProperty("clientOpts", "-Xms256m -Xmx1g").trim().split("\\s+", -1));

        GRPC_LOG.setLevel(Level.WARNING);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Process running = current;
            if (running != null) {
                running.destroyForcibly();
            }
        }));
        String workSetting = System.getProperty("work");
        Path work = workSetting != null
                ? Files.createDirectories(Path.of(workSetting))
                : Files.createTempDirectory("belfry-channel-compare");
        Path spi = work.resolve("spi");
        Files.createDirectories(
                spi.resolve(BenchDnsResolverProvider.SERVICE_FILE).getParent());
        Files.writeString(
                spi.resolve(BenchDnsResolverProvider.SERVICE_FILE), BenchDnsResolverProvider.class.getName() + "\n");
        String classPath = System.getProperty("java.class.path") + java.io.File.pathSeparator + spi;
        String java = ProcessHandle.current().info().command().orElse("java");

        System.out.printf(
                Locale.ROOT,
                "started %s, load average %s, %d CPUs, JDK %s, grpc-java %s%n",
                Instant.now().truncatedTo(ChronoUnit.SECONDS),
                loadAverage(),
                Runtime.getRuntime().availableProcessors(),
                Runtime.version(),
                grpcVersion());
        System.out.printf(
                Locale.ROOT,
                "duration %.1f s, warm-up %.1f s, %d in flight, slow scenario's open loop %.0f calls/s"
                        + " (at most %d in flight), %d rounds, DNS TTL %d s, client JVM options %s; logs in %s%n%n",
                duration,
                warmup,
                inFlight,
                slowRate,
                rateMaxInFlight,
                rounds,
                dnsTtl,
                clientOpts,
                work.toAbsolutePath().normalize());

        // results.get(client).get(key) holds one value per round.
        Map<String, Map<String, List<String>>> results = new LinkedHashMap<>();
        // ratios.get(kind).get(key) holds that Belfry kind / round_robin of each round that has both.
        List<String> belfryKinds = clients.stream()
                .filter(client -> client.startsWith("belfry") && clients.contains("round_robin"))
                .toList();
        Map<String, Map<String, List<String>>> ratios = new LinkedHashMap<>();
        for (String client : clients) {
            results.put(client, new LinkedHashMap<>());
        }
        try (BenchServers servers = new BenchServers(dnsTtl)) {
            for (int round = 1; round <= rounds; round++) {
                Map<String, Map<String, String>> thisRound = new LinkedHashMap<>();
                for (int k = 0; k < clients.size(); k++) {
                    // Each round starts with the next client, so none is always first on a fresh machine.
                    String client = clients.get((k + round - 1) % clients.size());
                    List<String> command = new ArrayList<>();
                    command.add(java);
                    command.addAll(clientOpts);
                    command.add("--enable-native-access=ALL-UNNAMED");
                    if (Runtime.version().feature() >= 24) {
                        // Netty's direct buffers as on JDK 21, where Unsafe needs no flag.
                        command.add("--sun-misc-unsafe-memory-access=allow");
                    }
                    command.add("-Dnetworkaddress.cache.ttl=0");
                    command.add("-Dsun.net.inetaddr.ttl=0");
                    command.add("-D" + BenchDnsResolverProvider.PROPERTY + "="
                            + servers.dnsAddress().getHostString() + ":"
                            + servers.dnsAddress().getPort());
                    command.add("-cp");
                    command.add(classPath);
                    command.add(BenchClient.class.getName());
                    command.addAll(List.of(
                            client,
                            Integer.toString(servers.port()),
                            Integer.toString(servers.controlPort()),
                            servers.dnsAddress().getHostString() + ":"
                                    + servers.dnsAddress().getPort(),
                            Double.toString(duration),
                            Double.toString(warmup),
                            Long.toString(dnsTtl),
                            Integer.toString(inFlight),
                            Double.toString(slowRate),
                            Integer.toString(rateMaxInFlight),
                            scenarios));
                    System.err.printf("round %d: %s%n", round, client);
                    Map<String, String> figures = run(
                            command, work.resolve("round" + round + "-" + client + ".log"), Duration.ofSeconds((long)
                                    (120 + 20 * (duration + warmup))));
                    thisRound.put(client, figures);
                    figures.forEach((key, value) -> results.get(client)
                            .computeIfAbsent(key, x -> new ArrayList<>())
                            .add(value));
                }
                System.out.printf("### Round %d (load average %s)%n%n", round, loadAverage());
                Cell cell = (client, key) ->
                        thisRound.getOrDefault(client, Map.of()).get(key);
                for (String kind : belfryKinds) {
                    for (String key : ORDER) {
                        String ratio = ratio(cell.value(kind, key), cell.value("round_robin", key));
                        if (!ratio.isEmpty()) {
                            ratios.computeIfAbsent(kind, x -> new LinkedHashMap<>())
                                    .computeIfAbsent(key, x -> new ArrayList<>())
                                    .add(ratio);
                        }
                    }
                }
                printTable(
                        clients,
                        cell,
                        belfryKinds,
                        "",
                        (kind, key) -> ratio(cell.value(kind, key), cell.value("round_robin", key)));
                for (String client : clients) {
                    Map<String, String> figures = thisRound.getOrDefault(client, Map.of());
                    System.out.printf(
                            "%s: calls per server (throughput) %s, backups %s; (slow, the slow one first) %s, backups %s;"
                                    + " at the fixed rate: calls due %s, per server %s, backups %s, over the cap %s,"
                                    + " failures by code %s; kill failures by code %s; failed calls elsewhere: throughput %s,"
                                    + " slow %s, not_serving %s, dns %s; before the first success %s and %s%n",
                            client,
                            figures.get("throughput.calls_per_server"),
                            figures.get("throughput.hedged"),
                            figures.get("slow.calls_per_server"),
                            figures.get("slow.hedged"),
                            figures.get("slow_rate.due"),
                            figures.get("slow_rate.calls_per_server"),
                            figures.get("slow_rate.hedged"),
                            figures.get("slow_rate.over_cap"),
                            figures.get("slow_rate.failure_codes"),
                            figures.get("kill.failure_codes"),
                            figures.get("throughput.failed"),
                            figures.get("slow.failed"),
                            figures.get("not_serving.failed"),
                            figures.get("dns.failed"),
                            figures.get("startup.failed_before_first_success"),
                            figures.get("startup.failed_after_500ms"));
                }
                System.out.println();
            }
        }
        System.out.printf("### Median over %d rounds (load average %s at the end)%n%n", rounds, loadAverage());
        // The ratio column is the median of the rounds' own ratios: each compares clients that ran
        // minutes apart at most, while the medians of the figures may come from different rounds.
        printTable(
                clients,
                (client, key) -> median(results.get(client).get(key)),
                belfryKinds,
                " (median of the rounds' ratios)",
                (kind, key) -> {
                    String median = median(ratios.getOrDefault(kind, Map.of()).get(key));
                    return median == null ? "" : pretty(median);
                });
    }

    /** Runs one client JVM; its RESULT lines are returned, everything else goes to {@code log}. */
    private static Map<String, String> run(List<String> command, Path log, Duration limit)
            throws IOException, InterruptedException {
        Process process =
                new ProcessBuilder(command).redirectError(log.toFile()).start();
        current = process;
        // A client that hangs (a call that never closes) is ended, and its round's figures are missing.
        Thread watchdog = Thread.ofPlatform().daemon().start(() -> {
            try {
                if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                    System.err.printf("client still running after %d s: ended; its log: %s%n", limit.toSeconds(), log);
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Map<String, String> figures = new LinkedHashMap<>();
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    String[] parts = line.split(" ", 3);
                    figures.put(parts[1], parts[2]);
                }
            }
        } finally {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
            current = null;
            watchdog.interrupt();
        }
        if (process.exitValue() != 0) {
            System.err.printf("client exited with %d; its log: %s%n", process.exitValue(), log);
        }
        return figures;
    }

    private interface Cell {
        String value(String client, String key);
    }

    /** Prints one table: a column per client, a ratio column to round_robin per Belfry kind, the goal. */
    private static void printTable(
            List<String> clients,
            Cell cell,
            List<String> belfryKinds,
            String ratioNote,
            BiFunction<String, String, String> ratioOf) {
        StringBuilder header = new StringBuilder("| figure |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String client : clients) {
            header.append(' ').append(title(client)).append(" |");
            rule.append("---:|");
        }
        for (String kind : belfryKinds) {
            header.append(' ')
                    .append(kind.equals("belfry") ? "Belfry" : title(kind))
                    .append(" / round_robin")
                    .append(ratioNote)
                    .append(" |");
            rule.append("---:|");
        }
        header.append(" goal |");
        rule.append("---|");
        System.out.println(header);
        System.out.println(rule);
        for (String key : ORDER) {
            StringBuilder row = new StringBuilder("| " + LABELS.get(key) + " |");
            boolean any = false;
            for (String client : clients) {
                String value = cell.value(client, key);
                any |= value != null;
                row.append(' ').append(value == null ? "" : pretty(value)).append(" |");
            }
            if (!any) {
                continue;
            }
            for (String kind : belfryKinds) {
                row.append(' ').append(ratioOf.apply(kind, key)).append(" |");
            }
            row.append(' ').append(GOALS.getOrDefault(key, "")).append(" |");
            System.out.println(row);
        }
        System.out.println();
    }

    private static String title(String client) {
        return switch (client) {
            case "belfry" -> "Belfry WarmGrpcChannel";
            case "belfry_hedged" -> "Belfry, hedging at p95";
            case "round_robin" -> "grpc-java round_robin + health";
            case "pick_first" -> "grpc-java pick_first";
            default -> client;
        };
    }

    private static String pretty(String value) {
        try {
            double number = Double.parseDouble(value);
            if (number >= 1000 || number == Math.rint(number)) {
                return String.format(Locale.ROOT, "%.0f", number);
            }
            return String.format(Locale.ROOT, number >= 10 ? "%.1f" : "%.2f", number);
        } catch (NumberFormatException e) {
            return value;
        }
    }

    private static String ratio(String belfry, String roundRobin) {
        double a = number(belfry);
        double b = number(roundRobin);
        if (Double.isNaN(a) || Double.isNaN(b) || Double.isInfinite(a) || Double.isInfinite(b) || b == 0) {
            return "";
        }
        return String.format(Locale.ROOT, "%.2f", a / b);
    }

    /** A figure as a number; "never" is infinite, a missing one NaN. */
    private static double number(String value) {
        if (value == null) {
            return Double.NaN;
        }
        if (value.equals("never")) {
            return Double.POSITIVE_INFINITY;
        }
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** The median of the rounds' values ("never" sorts last); null if there are none. */
    private static String median(List<String> values) {
        if (values == null || values.isEmpty()) {
            return null;
        }
        List<String> sorted = new ArrayList<>(values);
        sorted.sort(Comparator.comparingDouble(ChannelCompare::number));
        int n = sorted.size();
        if (n % 2 == 1) {
            return sorted.get(n / 2);
        }
        double low = number(sorted.get(n / 2 - 1));
        double high = number(sorted.get(n / 2));
        if (Double.isInfinite(high)) {
            return sorted.get(n / 2);
        }
        return String.format(Locale.ROOT, "%.3f", (low + high) / 2);
    }

    private static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+", -1);
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String grpcVersion() {
        Matcher matcher = Pattern.compile("grpc-api-([^/]+?)\\.jar").matcher(System.getProperty("java.class.path"));
        return matcher.find() ? matcher.group(1) : "unknown";
    }
}
