package dev.belfry.grpc.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.sun.management.HotSpotDiagnosticMXBean;
import dev.belfry.channel.AddressSource;
import dev.belfry.channel.dns.DnsAddressSource;
import dev.belfry.grpc.WarmGrpcChannel;
import dev.belfry.grpc.test.EchoGrpc;
import dev.belfry.grpc.test.EchoReply;
import dev.belfry.grpc.test.EchoRequest;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.resolver.ResolvedAddressTypes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * One client of the comparison, alone in its JVM (so the process's CPU time is that client's):
 * runs each scenario against {@link BenchServers} with a channel of its own and prints one {@code
 * RESULT key value} line per figure for {@link ChannelCompare} to collect.
 *
 * <p>Arguments: {@code KIND PORT CONTROL_PORT DNS_HOST:DNS_PORT DURATION WARMUP DNS_TTL IN_FLIGHT
 * SLOW_RATE RATE_MAX_IN_FLIGHT SCENARIOS}, where KIND is {@code belfry}, {@code belfry_hedged} (the same with {@code
 * hedging(95)}), {@code round_robin} (grpc-java's, with client-side
 * health checking) or {@code pick_first} (grpc-java's default), and SCENARIOS a comma-separated
 * list of {@code throughput, slow, kill, not_serving, startup, dns}.
 */
public final class BenchClient {
    /** The server every scenario disturbs: 127.0.0.1, the one pick_first uses. */
    static final int VICTIM = 0;

    private final String kind;
    private final int port;
    private final Control control;
    private final InetSocketAddress dnsServer;
    private final Duration duration;
    private final Duration warmup;
    private final long dnsTtl;
    private final int inFlight;
    private final double slowRate;
    private final int rateMaxInFlight;

    private BenchClient(String[] args) throws IOException {
        this.kind = args[0];
        this.port = Integer.parseInt(args[1]);
        this.control = new Control(Integer.parseInt(args[2]));
        int colon = args[3].lastIndexOf(':');
        this.dnsServer =
                new InetSocketAddress(args[3].substring(0, colon), Integer.parseInt(args[3].substring(colon + 1)));
        this.duration = Duration.ofMillis((long) (Double.parseDouble(args[4]) * 1000));
        this.warmup = Duration.ofMillis((long) (Double.parseDouble(args[5]) * 1000));
        this.dnsTtl = Long.parseLong(args[6]);
        this.inFlight = Integer.parseInt(args[7]);
        this.slowRate = Double.parseDouble(args[8]);
        this.rateMaxInFlight = Integer.parseInt(args[9]);
        if (!List.of("belfry", "belfry_hedged", "round_robin", "pick_first").contains(kind)) {
            throw new IllegalArgumentException("unknown client '" + kind + "'");
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 11) {
            System.err.println("usage: BenchClient KIND PORT CONTROL_PORT DNS_HOST:DNS_PORT DURATION WARMUP DNS_TTL"
                    + " IN_FLIGHT SLOW_RATE RATE_MAX_IN_FLIGHT SCENARIOS");
            System.exit(2);
        }
        NameResolverRegistry.getDefaultRegistry().register(new StaticResolverProvider());
        BenchClient client = new BenchClient(args);
        try (client.control) {
            for (String scenario : args[10].split(",", -1)) {
                switch (scenario) {
                    case "throughput" -> client.throughput();
                    case "slow" -> {
                        client.slow();
                        client.slowRate();
                    }
                    case "kill" -> client.kill();
                    case "not_serving" -> client.notServing();
                    case "startup" -> client.startup();
                    case "dns" -> client.dns();
                    default -> throw new IllegalArgumentException("unknown scenario '" + scenario + "'");
                }
            }
        }
        // grpc-java's shared executors and event loops are not daemon threads.
        System.exit(0);
    }

    private static void result(String key, Object value) {
        System.out.println("RESULT " + key + " " + value);
        System.out.flush();
    }

    private static String format(double value) {
        return String.format(Locale.ROOT, "%.3f", value);
    }

    // ---- channels

    /** A channel of this client's kind over the three servers' static addresses. */
    private Channel staticChannel() {
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int i = 0; i < BenchServers.COUNT; i++) {
            addresses.add(new InetSocketAddress(BenchServers.ip(i), port));
        }
        if (kind.startsWith("belfry")) {
            return belfry(WarmGrpcChannel.builder("bench", AddressSource.of(addresses)));
        }
        StringBuilder target = new StringBuilder(StaticResolverProvider.SCHEME + ":///");
        for (InetSocketAddress address : addresses) {
            target.append(address.getHostString()).append(':').append(port).append(',');
        }
        return grpcJava(target.substring(0, target.length() - 1));
    }

    /** A channel of this client's kind over {@link BenchServers#DNS_NAME}, resolved by DNS. */
    private Channel dnsChannel() {
        if (kind.startsWith("belfry")) {
            DnsAddressSource source = DnsAddressSource.builder(BenchServers.DNS_NAME, port)
                    .nameServers(List.of(dnsServer))
                    .addressTypes(ResolvedAddressTypes.IPV4_ONLY)
                    // The floor is 10 s by default; the benchmark's TTL is shorter to keep the run short.
                    .ttlBounds(Duration.ofSeconds(1), Duration.ofMinutes(5))
                    .build();
            return belfry(WarmGrpcChannel.builder("bench", source));
        }
        return grpcJava("dns:///" + BenchServers.DNS_NAME + ":" + port);
    }

    /** Belfry's channel with its defaults, plus hedging at the 95th percentile for {@code belfry_hedged}. */
    private WarmGrpcChannel belfry(WarmGrpcChannel.Builder builder) {
        if (kind.equals("belfry_hedged")) {
            // No metrics registry: the other clients record none either, and the backups are
            // counted from the servers' call counts (see backups).
            builder.hedging(95);
        }
        return builder.build();
    }

    /**
     * The servers' call counts, read between two readings of the client's own count of calls sent,
     * so that the calls the client made over the same span can be told within a few.
     */
    private record Counts(List<String> calls, long sentBefore, long sentAfter) {
        double sent() {
            return (sentBefore + sentAfter) / 2.0;
        }
    }

    private Counts counts(LongSupplier sent) throws IOException {
        long before = sent.getAsLong();
        List<String> calls = List.of(control.send("calls").split(" ", -1));
        return new Counts(calls, before, sent.getAsLong());
    }

    /** The calls each server got from {@code before} to {@code after}, as a/b/c. */
    private static String spread(Counts before, Counts after) {
        StringBuilder spread = new StringBuilder();
        for (int i = 0; i < after.calls().size(); i++) {
            spread.append(i == 0 ? "" : "/")
                    .append(Long.parseLong(after.calls().get(i))
                            - Long.parseLong(before.calls().get(i)));
        }
        return spread.toString();
    }

    /**
     * The backups the client sent from {@code before} to {@code after}: the calls the servers got
     * less the calls the client made, to within half the calls sent while each count was read.
     */
    private static long backups(Counts before, Counts after) {
        long served = 0;
        for (int i = 0; i < after.calls().size(); i++) {
            served += Long.parseLong(after.calls().get(i))
                    - Long.parseLong(before.calls().get(i));
        }
        return Math.max(0, Math.round(served - (after.sent() - before.sent())));
    }

    private ManagedChannel grpcJava(String target) {
        NettyChannelBuilder builder = NettyChannelBuilder.forTarget(target).usePlaintext();
        if (kind.equals("round_robin")) {
            // The best grpc-java offers: round_robin over every address, with client-side health
            // checking (grpc-services on the class path, a Watch stream per subchannel).
            builder.defaultServiceConfig(Map.of(
                            "loadBalancingConfig", List.of(Map.of("round_robin", Map.of())),
                            "healthCheckConfig", Map.of("serviceName", "")))
                    .disableServiceConfigLookUp();
        }
        return builder.build();
    }

    private static void close(Channel channel) throws InterruptedException {
        if (channel instanceof WarmGrpcChannel warm) {
            warm.close();
            warm.awaitTermination(Duration.ofSeconds(5));
        } else if (channel instanceof ManagedChannel managed) {
            managed.shutdownNow();
            managed.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /**
     * Calls until one call succeeds (at most 30 s) and returns how many failed before it: a channel
     * still connecting on a loaded machine may fail its first calls fast (Belfry's fail-fast wait).
     */
    private static int firstCall(Channel channel) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int failures = 0;
        while (true) {
            ListenableFuture<EchoReply> reply = EchoGrpc.newFutureStub(channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .say(EchoRequest.newBuilder().setText("hello").build());
            try {
                // Past the call's own deadline, so a call that never closes is caught here.
                reply.get(20, TimeUnit.SECONDS);
                return failures;
            } catch (ExecutionException e) {
                failures++;
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no call succeeded within 30 s", e.getCause());
                }
            } catch (TimeoutException e) {
                dumpThreads();
                reply.cancel(true);
                throw new IllegalStateException(
                        "a call with a 10 s deadline neither succeeded nor failed within 20 s", e);
            }
        }
    }

    /** Writes every thread's stack, virtual threads included, to {@code hang-PID.json} in the working directory. */
    private static void dumpThreads() {
        Path file = Path.of("hang-" + ProcessHandle.current().pid() + ".json").toAbsolutePath();
        try {
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
            System.err.println("threads dumped to " + file);
        } catch (IOException | RuntimeException e) {
            System.err.println("could not dump threads: " + e);
        }
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static void sleep(Duration duration) throws InterruptedException {
        Thread.sleep(duration.toMillis());
    }

    // ---- scenarios

    /** Small unary calls, {@code inFlight} outstanding, all servers healthy: calls/s and CPU per call. */
    private void throughput() throws Exception {
        control.send("reset");
        Channel channel = staticChannel();
        firstCall(channel);
        Load load = new Load(channel, inFlight).start();
        sleep(warmup);
        Counts before = counts(load::sent);
        long cpu = cpuNanos();
        long start = System.nanoTime();
        load.record();
        sleep(duration);
        load.pause();
        long elapsed = System.nanoTime() - start;
        cpu = cpuNanos() - cpu;
        Counts after = counts(load::sent);
        String spread = spread(before, after);
        load.stop();
        close(channel);
        result("throughput.calls_per_s", format(load.ok() / (elapsed / 1e9)));
        result("throughput.cpu_us_per_call", format(cpu / 1e3 / Math.max(1, load.ok())));
        result("throughput.p50_ms", format(load.percentileMillis(50)));
        result("throughput.p99_ms", format(load.percentileMillis(99)));
        result("throughput.failed", load.failed());
        result("throughput.calls_per_server", spread);
        result("throughput.hedged", backups(before, after));
    }

    /** One server answers 20 ms late: latency percentiles. */
    private void slow() throws Exception {
        control.send("reset");
        Channel channel = staticChannel();
        firstCall(channel);
        control.send("slow " + VICTIM + " 20");
        Load load = new Load(channel, inFlight).start();
        sleep(Duration.ofSeconds(1));
        Counts before = counts(load::sent);
        long start = System.nanoTime();
        load.record();
        sleep(duration);
        load.pause();
        long elapsed = System.nanoTime() - start;
        Counts after = counts(load::sent);
        String spread = spread(before, after);
        load.stop();
        close(channel);
        result("slow.calls_per_server", spread);
        result("slow.hedged", backups(before, after));
        result("slow.p50_ms", format(load.percentileMillis(50)));
        result("slow.p99_ms", format(load.percentileMillis(99)));
        result("slow.calls_per_s", format(load.ok() / (elapsed / 1e9)));
        result("slow.failed", load.failed());
    }

    /**
     * One server answers 20 ms late, and calls come at a fixed rate ({@code slowRate} per second,
     * an open loop far below what the servers can take): latency percentiles from each call's due
     * time, the calls each server got, backups, and the client's CPU per call at that rate.
     */
    private void slowRate() throws Exception {
        control.send("reset");
        Channel channel = staticChannel();
        firstCall(channel);
        control.send("slow " + VICTIM + " 20");
        RateLoad load = new RateLoad(channel, slowRate, rateMaxInFlight).start();
        sleep(Duration.ofSeconds(1));
        Counts before = counts(load::sent);
        long cpu = cpuNanos();
        load.record();
        sleep(duration);
        load.pause();
        cpu = cpuNanos() - cpu;
        Counts after = counts(load::sent);
        load.stop();
        String spread = spread(before, after);
        close(channel);
        result("slow_rate.calls_per_server", spread);
        result("slow_rate.hedged", backups(before, after));
        result("slow_rate.p50_ms", format(load.percentileMillis(50)));
        result("slow_rate.p99_ms", format(load.percentileMillis(99)));
        result("slow_rate.p999_ms", format(load.percentileMillis(99.9)));
        result("slow_rate.cpu_us_per_call", format(cpu / 1e3 / Math.max(1, load.due())));
        result("slow_rate.due", load.due());
        result("slow_rate.failed", load.failed());
        result("slow_rate.over_cap", load.overCap());
        result("slow_rate.failure_codes", load.failureCodes());
    }

    /** One server killed in the middle of the measured window: failed calls. */
    private void kill() throws Exception {
        control.send("reset");
        Channel channel = staticChannel();
        firstCall(channel);
        Load load = new Load(channel, inFlight).start();
        sleep(Duration.ofSeconds(1));
        load.record();
        sleep(duration.dividedBy(2));
        control.send("kill " + VICTIM);
        sleep(duration.dividedBy(2));
        load.pause();
        load.stop();
        close(channel);
        result("kill.failed", load.failed());
        result("kill.failure_codes", load.failureCodes());
        result("kill.ok", load.ok());
    }

    /**
     * One server switched to NOT_SERVING under load: time until it got its last call (reported
     * once it has had none for a second, or after the health interval and 3 s more).
     */
    private void notServing() throws Exception {
        control.send("reset");
        Channel channel = staticChannel();
        firstCall(channel);
        Load load = new Load(channel, inFlight).start();
        sleep(Duration.ofSeconds(1));
        load.record();
        control.send("health " + VICTIM + " not_serving");
        long start = System.nanoTime();
        long window = TimeUnit.SECONDS.toNanos(12);
        double last;
        boolean quiet;
        do {
            sleep(Duration.ofMillis(100));
            last = Double.parseDouble(control.send("last " + VICTIM));
            quiet = (System.nanoTime() - start) / 1e6 - last >= 1000;
        } while (!quiet && System.nanoTime() - start < window);
        load.pause();
        load.stop();
        close(channel);
        result("not_serving.last_call_ms", quiet ? format(Math.max(0, last)) : "never");
        result("not_serving.failed", load.failed());
    }

    /**
     * Start-up: from building the channel to the first success of a call made at once; then, on
     * a second channel, the latency of a first call made 500 ms after building it (as a service
     * would, once started, when its first request arrives).
     */
    private void startup() throws Exception {
        control.send("reset");
        long start = System.nanoTime();
        Channel channel = staticChannel();
        int failed = firstCall(channel);
        result("startup.first_success_ms", format((System.nanoTime() - start) / 1e6));
        result("startup.failed_before_first_success", failed);
        close(channel);

        Channel later = staticChannel();
        sleep(Duration.ofMillis(500));
        long asked = System.nanoTime();
        failed = firstCall(later);
        result("startup.failed_after_500ms", failed);
        result("startup.first_call_after_500ms_ms", format((System.nanoTime() - asked) / 1e6));
        close(later);
    }

    /**
     * DNS change under load: the name's answer moves from 127.0.0.1, .2 to .2, .3 (TTL {@code
     * dnsTtl}); time until 127.0.0.3 takes calls (within 5 TTLs and 5 s, else "never").
     */
    private void dns() throws Exception {
        control.send("reset");
        Channel channel = dnsChannel();
        firstCall(channel);
        Load load = new Load(channel, inFlight).start();
        sleep(Duration.ofSeconds(1));
        load.record();
        control.send("dns " + dnsTtl + " " + BenchServers.ip(1) + "," + BenchServers.ip(2) + " 2");
        long window = TimeUnit.SECONDS.toNanos(5 * dnsTtl + 5);
        long start = System.nanoTime();
        double first;
        do {
            sleep(Duration.ofMillis(50));
            first = Double.parseDouble(control.send("first 2"));
        } while (first < 0 && System.nanoTime() - start < window);
        load.pause();
        load.stop();
        close(channel);
        result("dns.new_address_ms", first >= 0 ? format(first) : "never");
        result("dns.failed", load.failed());
    }

    /** The line protocol to {@link BenchServers}' control port. */
    private static final class Control implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        private final PrintWriter out;

        Control(int port) throws IOException {
            this.socket = new Socket(InetAddress.getLoopbackAddress(), port);
            this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            this.out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8);
        }

        /** Sends a command and returns its answer without the {@code ok}; fails on an error. */
        String send(String command) throws IOException {
            out.println(command);
            String answer = in.readLine();
            if (answer == null || !answer.startsWith("ok")) {
                throw new IOException("'" + command + "' failed: " + answer);
            }
            return answer.substring(2).trim();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
