package dev.belfry.proxy.config;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.tomlj.Toml;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;

/**
 * Reads a TOML configuration file into a validated {@link ProxyConfig}, or reports every problem in
 * it at once as {@code FILE:LINE:COLUMN: message}.
 *
 * <p>Two formats are accepted (see {@code docs/configuration.md}): the full one ({@code
 * [[listeners]]} and {@code [[clusters]]}), and the short one of the original Rust proxy (top-level
 * {@code host}, {@code port} and {@code [[backends]]}), which becomes one listener and one
 * weighted-random cluster, both named {@code default}. Mixing them is an error.
 *
 * <p>Loading has no side effects: nothing is bound, and backend host names are not resolved (they
 * stay {@linkplain InetSocketAddress#isUnresolved() unresolved} for the connector). Whether a port
 * is free is a run-time question, not checked here. Thread-safe (stateless).
 */
public final class ConfigLoader {
    private static final TomlPosition START = TomlPosition.positionAt(1, 1);

    /** The admin server's address when {@code [admin] listen} is not set. */
    public static final InetSocketAddress DEFAULT_ADMIN_LISTEN = ConfigValues.listenAddress("127.0.0.1:9901");

    private static final List<String> FULL_KEYS = List.of("listeners", "clusters");
    private static final List<String> SHORT_KEYS = List.of("host", "port", "backends");

    private static final Map<String, Balancing> BALANCERS = new LinkedHashMap<>();
    private static final Map<String, ProxyProtocol> PROXY_PROTOCOLS = new LinkedHashMap<>();
    private static final Map<String, HealthCheckConfig.Kind> HEALTH_KINDS = new LinkedHashMap<>();
    private static final Map<String, String> LOG_LEVELS = new LinkedHashMap<>();

    static {
        for (Balancing balancing : Balancing.values()) {
            BALANCERS.put(balancing.configName(), balancing);
        }
        PROXY_PROTOCOLS.put("none", ProxyProtocol.NONE);
        PROXY_PROTOCOLS.put("v1", ProxyProtocol.V1);
        PROXY_PROTOCOLS.put("v2", ProxyProtocol.V2);
        HEALTH_KINDS.put("tcp", HealthCheckConfig.Kind.TCP);
        HEALTH_KINDS.put("http", HealthCheckConfig.Kind.HTTP);
        for (String level : List.of("error", "warn", "info", "debug", "trace")) {
            LOG_LEVELS.put(level, level);
        }
    }

    private final Problems problems;
    private final int defaultIoThreads;

    /** Where [admin] listen is written, if it is. */
    private @Nullable TomlPosition adminListenPosition;

    private ConfigLoader(String file, int defaultIoThreads) {
        this.problems = new Problems(file);
        this.defaultIoThreads = defaultIoThreads;
    }

    /**
     * Reads and validates the file at {@code file}; problems name the file as given.
     *
     * @throws ConfigException listing every problem found, or that the file cannot be read
     */
    public static ProxyConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw unreadable(file, "no such file");
        } catch (AccessDeniedException e) {
            throw unreadable(file, "permission denied");
        } catch (CharacterCodingException e) {
            throw unreadable(file, "not UTF-8 text");
        } catch (IOException e) {
            throw unreadable(file, String.valueOf(e.getMessage()));
        }
        return read(text, file.toString(), file);
    }

    /**
     * Reads and validates {@code text}, naming it {@code name} in problems; the result has no
     * {@link ProxyConfig#source()}.
     *
     * @throws ConfigException listing every problem found
     */
    public static ProxyConfig parse(String text, String name) throws ConfigException {
        return read(text, name, null);
    }

    private static ConfigException unreadable(Path file, String reason) {
        return new ConfigException(
                List.of(new ConfigProblem(file.toString(), 0, 0, "cannot read config file: " + reason)));
    }

    private static ProxyConfig read(String text, String name, @Nullable Path source) throws ConfigException {
        ConfigLoader loader = new ConfigLoader(name, Runtime.getRuntime().availableProcessors());
        TomlParseResult toml = Toml.parse(text);
        if (toml.hasErrors()) {
            // A broken file yields a partial table; binding it would add problems that are only
            // echoes of the syntax error, so syntax errors are reported alone.
            for (TomlParseError error : toml.errors()) {
                TomlPosition at = error.position();
                loader.problems.add(at == null ? START : at, String.valueOf(error.getMessage()));
            }
            throw new ConfigException(loader.problems.sorted());
        }
        Section root = new Section(loader.problems, toml, "", START);
        ProxyConfig config = loader.bind(root, source);
        root.reportUnknownKeys();
        if (config == null || loader.problems.count() > 0) {
            throw new ConfigException(loader.problems.sorted());
        }
        return config;
    }

    /**
     * The keys the reader accepts in each table of {@code text}, by table path without array
     * indices ({@code clusters.health_check}; {@code ""} for the top level): what the tests hold
     * {@code docs/configuration.md} to. Only the tables present in {@code text} are read.
     */
    static Map<String, Set<String>> acceptedKeys(String text) {
        ConfigLoader loader = new ConfigLoader("(keys)", 1);
        Section root = new Section(loader.problems, Toml.parse(text), "", START);
        loader.bind(root, null);
        return root.acceptedKeys();
    }

    /** A listener as read, with where its parts are written, for the checks across tables. */
    private record ListenerDraft(
            Section section,
            @Nullable ListenerConfig config,
            @Nullable String name,
            @Nullable String cluster) {}

    /** A cluster as read. */
    private record ClusterDraft(
            Section section,
            @Nullable ClusterConfig config,
            @Nullable String name) {}

    private @Nullable ProxyConfig bind(Section root, @Nullable Path source) {
        boolean shortFormat = SHORT_KEYS.stream().anyMatch(root::has);

        int ioThreads = root.intValue("io_threads", defaultIoThreads, 1, 1024);
        AdminConfig admin = admin(root);
        LogConfig log = log(root);

        List<ListenerDraft> listeners = new ArrayList<>();
        List<ClusterDraft> clusters = new ArrayList<>();
        if (shortFormat) {
            for (String key : FULL_KEYS) {
                if (root.has(key)) {
                    root.accept(key);
                    root.problem(
                            root.keyPosition(key),
                            "'" + key + "' cannot be mixed with the short format's top-level host, port and"
                                    + " backends; use [[listeners]] and [[clusters]] only, or the short format only");
                }
            }
            shortFormat(root, listeners, clusters);
        } else {
            for (Section section : root.tables("listeners")) {
                listeners.add(listener(section));
            }
            for (Section section : root.tables("clusters")) {
                clusters.add(cluster(section));
            }
            if (!root.has("listeners") || root.isEmptyArray("listeners")) {
                root.problem(
                        root.has("listeners") ? root.keyPosition("listeners") : START,
                        "no listeners: add a [[listeners]] table with name, listen and cluster"
                                + " (or use the short format: host, port and [[backends]])");
            }
        }
        crossCheck(root, admin, listeners, clusters);

        if (problems.count() > 0 || admin == null) {
            return null;
        }
        List<ListenerConfig> listenerConfigs = new ArrayList<>();
        for (ListenerDraft draft : listeners) {
            listenerConfigs.add(draft.config());
        }
        List<ClusterConfig> clusterConfigs = new ArrayList<>();
        for (ClusterDraft draft : clusters) {
            clusterConfigs.add(draft.config());
        }
        return build(root, () -> new ProxyConfig(source, ioThreads, admin, listenerConfigs, clusterConfigs, log));
    }

    private @Nullable AdminConfig admin(Section root) {
        Section section = root.table("admin");
        if (section == null) {
            return new AdminConfig(DEFAULT_ADMIN_LISTEN);
        }
        if (section.has("listen")) {
            adminListenPosition = section.valuePosition("listen");
        }
        InetSocketAddress listen =
                section.parsed("listen", "a string like \"127.0.0.1:9901\"", ConfigValues::listenAddress);
        InetSocketAddress chosen = listen == null ? DEFAULT_ADMIN_LISTEN : listen;
        return build(section, () -> new AdminConfig(chosen));
    }

    private LogConfig log(Section root) {
        Section section = root.table("log");
        if (section == null) {
            return new LogConfig("info", false);
        }
        return new LogConfig(section.choice("level", "info", LOG_LEVELS), section.bool("json", false));
    }

    private ListenerDraft listener(Section section) {
        int before = problems.count();
        String name = name(section, "the listener's name, used in logs and metrics");
        InetSocketAddress listen = null;
        if (!section.has("listen")) {
            section.missing("listen", "the address to listen on, like \"0.0.0.0:8080\"");
        } else {
            listen = section.parsed("listen", "a string like \"0.0.0.0:8080\"", ConfigValues::listenAddress);
        }
        String cluster = section.requiredString("cluster", "a cluster's name", "the name of the cluster to forward to");
        int maxConnections =
                section.intValue("max_connections", ListenerConfig.DEFAULT_MAX_CONNECTIONS, 1, Integer.MAX_VALUE);
        Duration idleTimeout = section.duration("idle_timeout", ListenerConfig.DEFAULT_IDLE_TIMEOUT, false);
        ProxyProtocol accept = section.choice("accept_proxy_protocol", ProxyProtocol.NONE, PROXY_PROTOCOLS);
        Duration headerTimeout =
                section.duration("proxy_protocol_timeout", ListenerConfig.DEFAULT_PROXY_HEADER_TIMEOUT, false);
        if (accept == ProxyProtocol.NONE && section.has("proxy_protocol_timeout")) {
            section.problem(
                    section.keyPosition("proxy_protocol_timeout"),
                    "proxy_protocol_timeout applies only with accept_proxy_protocol = \"v1\" or \"v2\"");
        }
        ListenerConfig config = null;
        if (problems.count() == before && name != null && listen != null && cluster != null) {
            InetSocketAddress address = listen;
            config = build(
                    section,
                    () -> new ListenerConfig(
                            name, address, cluster, maxConnections, idleTimeout, accept, headerTimeout));
        }
        return new ListenerDraft(section, config, name, cluster);
    }

    private @Nullable String name(Section section, String what) {
        String name = section.requiredString("name", "a string", what);
        if (name != null && !ConfigValues.isName(name)) {
            section.problem(
                    section.valuePosition("name"),
                    "name must be " + ConfigValues.NAME_FORMS + ", was " + ConfigValues.quote(name));
            return null;
        }
        return name;
    }

    private ClusterDraft cluster(Section section) {
        int before = problems.count();
        String name = name(section, "the cluster's name, which listeners refer to");
        Balancing balancer = section.choice("balancer", Balancing.P2C_PEAK_EWMA, BALANCERS);
        Duration connectTimeout = section.duration("connect_timeout", ClusterConfig.DEFAULT_CONNECT_TIMEOUT, false);
        int connectRetries = section.intValue("connect_retries", ClusterConfig.DEFAULT_CONNECT_RETRIES, 0, 100);
        int maxPerBackend = section.intValue(
                "max_connections_per_backend", ClusterConfig.DEFAULT_MAX_CONNECTIONS_PER_BACKEND, 1, Integer.MAX_VALUE);
        ProxyProtocol send = section.choice("send_proxy_protocol", ProxyProtocol.NONE, PROXY_PROTOCOLS);
        Duration drainTimeout = section.duration("drain_timeout", ClusterConfig.DEFAULT_DRAIN_TIMEOUT, true);
        Duration slowStart = section.duration("slow_start", Duration.ZERO, true);
        if (!slowStart.isZero() && (balancer == Balancing.ROUND_ROBIN || balancer == Balancing.CONSISTENT_HASH)) {
            section.problem(
                    section.valuePosition("slow_start"),
                    "slow_start has no effect with balancer " + balancer.configName()
                            + ", which does not weigh backends; use weighted-round-robin, weighted-random,"
                            + " least-connections or a p2c balancer, or remove slow_start");
        }
        HealthCheckConfig healthCheck = healthCheck(section.table("health_check"));
        OutlierConfig outlier = outlier(section.table("outlier_detection"));

        List<BackendConfig> backends = new ArrayList<>();
        Map<InetSocketAddress, TomlPosition> seen = new HashMap<>();
        List<Section> backendSections = section.tables("backends");
        for (Section backend : backendSections) {
            BackendConfig config = backend(backend);
            if (config != null) {
                TomlPosition first = seen.putIfAbsent(config.address(), backend.valuePosition("address"));
                if (first != null) {
                    backend.problem(
                            backend.valuePosition("address"),
                            "duplicate backend address " + Addresses.format(config.address()) + " (first at line "
                                    + first.line() + "); give one backend a higher weight instead");
                }
                backends.add(config);
            }
        }
        DnsConfig dns = dns(section.table("dns"));
        boolean hasBackends = section.has("backends");
        boolean hasDns = section.has("dns");
        String label = name == null ? section.path() : "cluster '" + name + "'";
        if (hasBackends && hasDns) {
            section.problem(section.keyPosition("dns"), label + " has both backends and dns; use one of them");
        } else if (!hasDns && (!hasBackends || section.isEmptyArray("backends"))) {
            section.problem(
                    hasBackends ? section.keyPosition("backends") : section.position(),
                    label + " has no backends: add [[clusters.backends]] tables with address, or a"
                            + " [clusters.dns] table with name and port");
        }
        ClusterConfig config = null;
        if (problems.count() == before && name != null) {
            config = build(
                    section,
                    () -> new ClusterConfig(
                            name,
                            balancer,
                            connectTimeout,
                            connectRetries,
                            maxPerBackend,
                            send,
                            drainTimeout,
                            healthCheck,
                            outlier,
                            backends,
                            dns,
                            slowStart));
        }
        return new ClusterDraft(section, config, name);
    }

    private @Nullable HealthCheckConfig healthCheck(@Nullable Section section) {
        if (section == null) {
            return null;
        }
        int before = problems.count();
        HealthCheckConfig.Kind kind = section.choice("kind", HealthCheckConfig.Kind.TCP, HEALTH_KINDS);
        int beforeTimes = problems.count();
        Duration interval = section.duration("interval", HealthCheckConfig.DEFAULT_INTERVAL, false);
        Duration timeout = section.duration("timeout", HealthCheckConfig.DEFAULT_TIMEOUT, false);
        // Compared only when both are valid: a default standing in for a bad value proves nothing.
        boolean timesValid = problems.count() == beforeTimes;
        int rise = section.intValue("rise", HealthCheckConfig.DEFAULT_RISE, 1, 100);
        int fall = section.intValue("fall", HealthCheckConfig.DEFAULT_FALL, 1, 100);
        String path = section.string("path", "a string like \"/healthz\"");
        int expectedStatus = section.intValue("expected_status", HealthCheckConfig.DEFAULT_EXPECTED_STATUS, 100, 599);
        if (timesValid && timeout.compareTo(interval) > 0) {
            section.problem(
                    section.has("timeout") ? section.valuePosition("timeout") : section.valuePosition("interval"),
                    "timeout (" + ConfigValues.format(timeout) + ") must not be longer than interval ("
                            + ConfigValues.format(interval) + "): checks would overlap");
        }
        if (kind == HealthCheckConfig.Kind.TCP) {
            for (String httpOnly : List.of("path", "expected_status")) {
                if (section.has(httpOnly)) {
                    section.problem(
                            section.keyPosition(httpOnly),
                            httpOnly + " applies only to kind = \"http\" (this check is kind = \"tcp\")");
                }
            }
        } else if (path != null && !path.startsWith("/")) {
            section.problem(
                    section.valuePosition("path"),
                    "path must start with '/', like \"/healthz\", was " + ConfigValues.quote(path));
        }
        if (problems.count() > before) {
            return null;
        }
        String checkedPath = kind == HealthCheckConfig.Kind.HTTP ? (path == null ? "/" : path) : null;
        return build(
                section, () -> new HealthCheckConfig(kind, interval, timeout, rise, fall, checkedPath, expectedStatus));
    }

    private @Nullable OutlierConfig outlier(@Nullable Section section) {
        if (section == null) {
            return null;
        }
        int before = problems.count();
        int failures = section.intValue("consecutive_failures", OutlierConfig.DEFAULT_CONSECUTIVE_FAILURES, 1, 1000);
        int beforeTimes = problems.count();
        Duration base = section.duration("base_ejection_time", OutlierConfig.DEFAULT_BASE_EJECTION_TIME, false);
        // An unset maximum never undercuts a long base: the default is 300 s or the base, if longer.
        Duration defaultMax = base.compareTo(OutlierConfig.DEFAULT_MAX_EJECTION_TIME) > 0
                ? base
                : OutlierConfig.DEFAULT_MAX_EJECTION_TIME;
        Duration max = section.duration("max_ejection_time", defaultMax, false);
        boolean timesValid = problems.count() == beforeTimes;
        int percent = section.intValue("max_ejected_percent", OutlierConfig.DEFAULT_MAX_EJECTED_PERCENT, 0, 100);
        if (timesValid && max.compareTo(base) < 0) {
            section.problem(
                    section.valuePosition("max_ejection_time"),
                    "max_ejection_time (" + ConfigValues.format(max) + ") must not be shorter than"
                            + " base_ejection_time (" + ConfigValues.format(base) + ")");
        }
        if (problems.count() > before) {
            return null;
        }
        return build(section, () -> new OutlierConfig(failures, base, max, percent));
    }

    private @Nullable BackendConfig backend(Section section) {
        int before = problems.count();
        section.hint("host", "backends take address = \"HOST:PORT\"");
        section.hint("port", "backends take address = \"HOST:PORT\"");
        InetSocketAddress address = null;
        if (!section.has("address")) {
            section.missing("address", "where to connect, like \"127.0.0.1:9001\"");
        } else {
            address = section.parsed("address", "a string like \"127.0.0.1:9001\"", ConfigValues::backendAddress);
        }
        int weight = section.intValue("weight", 1, 1, 10_000);
        if (problems.count() > before || address == null) {
            return null;
        }
        InetSocketAddress chosen = address;
        return build(section, () -> new BackendConfig(chosen, weight));
    }

    private @Nullable DnsConfig dns(@Nullable Section section) {
        if (section == null) {
            return null;
        }
        int before = problems.count();
        String name = section.requiredString("name", "a host name", "the host name to resolve");
        if (name != null && !ConfigValues.isHostName(name)) {
            section.problem(
                    section.valuePosition("name"),
                    "name must be a host name like \"app.default.svc.cluster.local\", was " + ConfigValues.quote(name));
        }
        if (!section.has("port")) {
            section.missing("port", "the backends' port");
        }
        int port = section.intValue("port", 1, 1, 65_535);
        List<InetSocketAddress> servers =
                section.parsedList("servers", "strings like \"127.0.0.1:8600\"", ConfigValues::serverAddress);
        if (problems.count() > before || name == null) {
            return null;
        }
        return build(section, () -> new DnsConfig(name, port, servers));
    }

    /** The short format: top-level host and port, and [[backends]] with host, port and weight. */
    private void shortFormat(Section root, List<ListenerDraft> listeners, List<ClusterDraft> clusters) {
        int before = problems.count();
        String host = root.requiredString("host", "a string like \"0.0.0.0\"", "the address to listen on");
        if (!root.has("port")) {
            root.missing("port", "the port to listen on");
        }
        int port = root.intValue("port", 0, 0, 65_535);
        InetSocketAddress listen = null;
        if (host != null && problems.count() == before) {
            try {
                listen = ConfigValues.listenAddress(unbracket(host), port, false, host);
            } catch (IllegalArgumentException e) {
                root.problem(
                        root.valuePosition("host"),
                        "host must be a literal IP address, \"localhost\" or \"*\", was " + ConfigValues.quote(host)
                                + " (listeners do not resolve names)");
            }
        }
        List<BackendConfig> backends = new ArrayList<>();
        List<Section> sections = root.tables("backends");
        if (!root.has("backends")) {
            root.missing("backends", "[[backends]] tables with host, port and weight");
        } else if (root.isEmptyArray("backends")) {
            root.problem(root.keyPosition("backends"), "backends must list at least one backend");
        }
        for (Section section : sections) {
            int start = problems.count();
            section.hint("address", "the short format's backends take host = \"...\" and port = ...");
            String backendHost =
                    section.requiredString("host", "a string like \"127.0.0.1\"", "the backend's address or name");
            if (!section.has("port")) {
                section.missing("port", "the backend's port");
            }
            int backendPort = section.intValue("port", 1, 1, 65_535);
            int weight = section.intValue("weight", 1, 1, 10_000);
            if (backendHost != null && problems.count() == start) {
                try {
                    InetSocketAddress address =
                            ConfigValues.backendAddress(unbracket(backendHost), backendPort, false, backendHost);
                    backends.add(new BackendConfig(address, weight));
                } catch (IllegalArgumentException e) {
                    section.problem(section.valuePosition("host"), "host must be " + e.getMessage());
                }
            }
        }
        if (problems.count() > before || listen == null) {
            return;
        }
        InetSocketAddress address = listen;
        ListenerConfig listener = build(
                root,
                () -> new ListenerConfig(
                        "default",
                        address,
                        "default",
                        ListenerConfig.DEFAULT_MAX_CONNECTIONS,
                        ListenerConfig.DEFAULT_IDLE_TIMEOUT,
                        ProxyProtocol.NONE));
        ClusterConfig cluster = build(
                root,
                () -> new ClusterConfig(
                        "default",
                        Balancing.WEIGHTED_RANDOM,
                        ClusterConfig.DEFAULT_CONNECT_TIMEOUT,
                        ClusterConfig.DEFAULT_CONNECT_RETRIES,
                        ClusterConfig.DEFAULT_MAX_CONNECTIONS_PER_BACKEND,
                        ProxyProtocol.NONE,
                        ClusterConfig.DEFAULT_DRAIN_TIMEOUT,
                        null,
                        null,
                        backends,
                        null));
        listeners.add(new ListenerDraft(root, listener, "default", "default"));
        clusters.add(new ClusterDraft(root, cluster, "default"));
    }

    /** The short format's host fields hold an IPv6 address bare ("::1"), or in brackets. */
    private static String unbracket(String host) {
        return host.length() > 2 && host.startsWith("[") && host.endsWith("]")
                ? host.substring(1, host.length() - 1)
                : host;
    }

    /** Checks across tables: unique names, known clusters, listen addresses that do not collide. */
    private void crossCheck(
            Section root, @Nullable AdminConfig admin, List<ListenerDraft> listeners, List<ClusterDraft> clusters) {
        Map<String, TomlPosition> clusterNames = new LinkedHashMap<>();
        for (ClusterDraft cluster : clusters) {
            if (cluster.name() != null) {
                TomlPosition at = cluster.section().valuePosition("name");
                TomlPosition first = clusterNames.putIfAbsent(cluster.name(), at);
                if (first != null) {
                    cluster.section()
                            .problem(
                                    at,
                                    "duplicate cluster name '" + cluster.name() + "' (first defined at line "
                                            + first.line() + ")");
                }
            }
        }
        Map<String, TomlPosition> listenerNames = new HashMap<>();
        for (ListenerDraft listener : listeners) {
            Section section = listener.section();
            if (listener.name() != null && section != root) {
                TomlPosition at = section.valuePosition("name");
                TomlPosition first = listenerNames.putIfAbsent(listener.name(), at);
                if (first != null) {
                    section.problem(
                            at,
                            "duplicate listener name '" + listener.name() + "' (first defined at line " + first.line()
                                    + ")");
                }
            }
            String cluster = listener.cluster();
            if (cluster != null && section != root && !clusterNames.containsKey(cluster)) {
                String closest = ConfigValues.closest(cluster, clusterNames.keySet());
                String hint = closest != null
                        ? "did you mean '" + closest + "'?"
                        : clusterNames.isEmpty()
                                ? "there are no [[clusters]]"
                                : "clusters are: " + String.join(", ", clusterNames.keySet());
                section.problem(
                        section.valuePosition("cluster"),
                        "unknown cluster '" + cluster + "' in " + section.path() + "; " + hint);
            }
        }
        checkListenAddresses(root, admin, listeners);
    }

    private record Bound(
            String owner,
            InetSocketAddress address,
            @Nullable TomlPosition at) {}

    private void checkListenAddresses(Section root, @Nullable AdminConfig admin, List<ListenerDraft> listeners) {
        List<Bound> bound = new ArrayList<>();
        if (admin != null) {
            TomlPosition at = adminListenPosition;
            bound.add(new Bound(at != null ? "the admin server" : "the admin server (by default)", admin.listen(), at));
        }
        for (ListenerDraft listener : listeners) {
            if (listener.config() != null) {
                Section section = listener.section();
                TomlPosition at = section == root ? root.valuePosition("port") : section.valuePosition("listen");
                bound.add(new Bound(
                        "listener '" + listener.config().name() + "'",
                        listener.config().listen(),
                        at));
            }
        }
        for (int i = 0; i < bound.size(); i++) {
            for (int j = 0; j < i; j++) {
                Bound later = bound.get(i);
                Bound earlier = bound.get(j);
                if (!collide(earlier.address(), later.address())) {
                    continue;
                }
                // Report where the user can see it: on the later one, unless only the earlier is written.
                boolean onLater = later.at() != null;
                Bound reported = onLater ? later : earlier;
                Bound other = onLater ? earlier : later;
                String where =
                        other.at() == null ? "" : " at line " + other.at().line();
                root.problem(
                        reported.at() == null ? START : reported.at(),
                        "listen address " + Addresses.format(reported.address()) + " collides with " + other.owner()
                                + where + " (" + Addresses.format(other.address()) + ")");
            }
        }
    }

    /** Whether two sockets could not both bind: the same port on the same or an overlapping address. */
    private static boolean collide(InetSocketAddress a, InetSocketAddress b) {
        if (a.getPort() != b.getPort() || a.getPort() == 0) {
            return false;
        }
        if (a.getAddress().equals(b.getAddress())) {
            return true;
        }
        // A wildcard overlaps every address of its family; the IPv6 wildcard is dual-stack.
        return overlaps(a, b) || overlaps(b, a);
    }

    private static boolean overlaps(InetSocketAddress wildcard, InetSocketAddress other) {
        return wildcard.getAddress().isAnyLocalAddress()
                && (wildcard.getAddress() instanceof java.net.Inet6Address
                        || wildcard.getAddress().getClass()
                                == other.getAddress().getClass());
    }

    /** Builds a record; its own checks are a second line of defence, reported at the table. */
    private <T> @Nullable T build(Section section, java.util.function.Supplier<T> constructor) {
        try {
            return constructor.get();
        } catch (IllegalArgumentException | NullPointerException e) {
            section.problem(section.position(), String.valueOf(e.getMessage()));
            return null;
        }
    }
}
