package dev.belfry.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    static Path resource(String name) {
        try {
            return Path.of(Objects.requireNonNull(ConfigLoaderTest.class.getResource("/config/" + name), name)
                    .toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every problem reported for {@code toml}, as printed. */
    static List<String> problems(String toml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(toml, "test.toml"));
        assertThat(e).as("expected problems in:%n%s", toml).isNotNull();
        List<String> printed = new ArrayList<>();
        for (ConfigProblem problem : e.problems()) {
            printed.add(problem.toString());
        }
        assertThat(e.getMessage()).isEqualTo(String.join("\n", printed));
        return printed;
    }

    /** A valid config around one cluster body, to test cluster keys on their own. */
    static String withCluster(String clusterBody) {
        return """
                [[listeners]]
                name = "web"
                listen = "0.0.0.0:8080"
                cluster = "app"

                [[clusters]]
                name = "app"
                """ + clusterBody;
    }

    static InetSocketAddress at(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    @Test
    void theProxyHeaderWaitIsAListenerSettingDefaultingToFiveSeconds() throws Exception {
        String listener = """
                [[listeners]]
                name = "web"
                listen = "0.0.0.0:8080"
                cluster = "app"
                accept_proxy_protocol = "v2"
                %s
                [[clusters]]
                name = "app"
                [[clusters.backends]]
                address = "127.0.0.1:9001"
                """;

        ListenerConfig set = ConfigLoader.parse(listener.formatted("proxy_protocol_timeout = \"250ms\""), "test.toml")
                .listeners()
                .get(0);
        ListenerConfig unset = ConfigLoader.parse(listener.formatted(""), "test.toml")
                .listeners()
                .get(0);

        assertThat(set.proxyHeaderTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(unset.proxyHeaderTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(problems(listener.formatted("proxy_protocol_timeout = \"0s\"")))
                .singleElement()
                .asString()
                .startsWith("test.toml:6:")
                .contains("proxy_protocol_timeout");
        assertThat(problems(listener.replace("accept_proxy_protocol = \"v2\"\n", "")
                        .formatted("proxy_protocol_timeout = \"1s\"")))
                .containsExactly("test.toml:5:1: proxy_protocol_timeout applies only with accept_proxy_protocol ="
                        + " \"v1\" or \"v2\"");
    }

    @Test
    void theIssuesExampleParsesToTheDocumentedRecords() throws Exception {
        Path file = resource("example.toml");
        ProxyConfig config = ConfigLoader.load(file);

        assertThat(config.source()).isEqualTo(file);
        assertThat(config.ioThreads()).isEqualTo(2);
        assertThat(config.admin()).isEqualTo(new AdminConfig(at("127.0.0.1", 9901)));
        assertThat(config.log()).isEqualTo(new LogConfig("info", false));
        assertThat(config.listeners())
                .containsExactly(new ListenerConfig(
                        "web",
                        at("0.0.0.0", 8080),
                        "app",
                        ListenerConfig.DEFAULT_MAX_CONNECTIONS,
                        Duration.ofMinutes(10),
                        ProxyProtocol.NONE));
        assertThat(config.clusters())
                .containsExactly(new ClusterConfig(
                        "app",
                        Balancing.P2C_PEAK_EWMA,
                        Duration.ofSeconds(5),
                        2,
                        10_000,
                        ProxyProtocol.NONE,
                        Duration.ofSeconds(30),
                        new HealthCheckConfig(
                                HealthCheckConfig.Kind.TCP,
                                Duration.ofSeconds(2),
                                Duration.ofSeconds(1),
                                2,
                                3,
                                null,
                                200),
                        new OutlierConfig(5, Duration.ofSeconds(30), Duration.ofMinutes(5), 10),
                        List.of(new BackendConfig(at("127.0.0.1", 9001), 1)),
                        null));
    }

    @Test
    void everyKeyOfTheFullFormatIsRead() throws Exception {
        ProxyConfig config = ConfigLoader.load(resource("full.toml"));

        assertThat(config.ioThreads()).isEqualTo(4);
        assertThat(config.admin().listen()).isEqualTo(at("::1", 9902));
        assertThat(config.log()).isEqualTo(new LogConfig("debug", true));
        assertThat(config.listeners())
                .containsExactly(
                        new ListenerConfig(
                                "web", at("0.0.0.0", 8080), "app", 5000, Duration.ofSeconds(90), ProxyProtocol.V2),
                        new ListenerConfig(
                                "internal",
                                at("127.0.0.1", 8081),
                                "svc",
                                10_000,
                                Duration.ofMinutes(10),
                                ProxyProtocol.NONE));
        ClusterConfig app = Objects.requireNonNull(config.cluster("app"));
        assertThat(app.balancer()).isEqualTo(Balancing.WEIGHTED_ROUND_ROBIN);
        assertThat(app.connectTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(app.connectRetries()).isEqualTo(1);
        assertThat(app.maxConnectionsPerBackend()).isEqualTo(100);
        assertThat(app.sendProxyProtocol()).isEqualTo(ProxyProtocol.V1);
        assertThat(app.drainTimeout()).isEqualTo(Duration.ofMinutes(1));
        assertThat(app.slowStart()).isEqualTo(Duration.ofSeconds(30));
        assertThat(app.healthCheck())
                .isEqualTo(new HealthCheckConfig(
                        HealthCheckConfig.Kind.HTTP,
                        Duration.ofMillis(1500),
                        Duration.ofMillis(500),
                        1,
                        2,
                        "/healthz",
                        204));
        assertThat(app.outlierDetection())
                .isEqualTo(new OutlierConfig(3, Duration.ofSeconds(10), Duration.ofMinutes(2), 50));
        assertThat(app.backends())
                .containsExactly(
                        new BackendConfig(at("10.0.0.1", 9001), 3),
                        new BackendConfig(at("2001:db8::7", 9001), 1),
                        new BackendConfig(InetSocketAddress.createUnresolved("app-3.internal", 9001), 10_000));
        assertThat(app.backends().get(2).address().isUnresolved()).isTrue();
        assertThat(app.dns()).isNull();

        ClusterConfig svc = Objects.requireNonNull(config.cluster("svc"));
        assertThat(svc.balancer()).isEqualTo(Balancing.CONSISTENT_HASH);
        assertThat(svc.backends()).isEmpty();
        assertThat(svc.dns())
                .isEqualTo(new DnsConfig(
                        "app.default.svc.cluster.local", 8080, List.of(at("10.96.0.10", 53), at("fd00::10", 53))));
        assertThat(svc.healthCheck()).isNull();
        assertThat(svc.outlierDetection()).isNull();
    }

    @Test
    void defaultsApplyWhenOnlyTheRequiredKeysAreSet() throws Exception {
        ProxyConfig config = ConfigLoader.parse(withCluster("""
                [[clusters.backends]]
                address = "127.0.0.1:9001"
                """), "test.toml");

        assertThat(config.source()).isNull();
        assertThat(config.ioThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(config.admin().listen()).isEqualTo(at("127.0.0.1", 9901));
        assertThat(config.admin().listen()).isEqualTo(ConfigLoader.DEFAULT_ADMIN_LISTEN);
        assertThat(config.log()).isEqualTo(new LogConfig("info", false));
        ClusterConfig app = config.clusters().get(0);
        assertThat(app.balancer()).isEqualTo(Balancing.P2C_PEAK_EWMA);
        assertThat(app.connectTimeout()).isEqualTo(ClusterConfig.DEFAULT_CONNECT_TIMEOUT);
        assertThat(app.connectRetries()).isEqualTo(ClusterConfig.DEFAULT_CONNECT_RETRIES);
        assertThat(app.drainTimeout()).isEqualTo(ClusterConfig.DEFAULT_DRAIN_TIMEOUT);
        assertThat(app.slowStart()).isEqualTo(Duration.ZERO);
        assertThat(app.healthCheck()).isNull();
        assertThat(app.outlierDetection()).isNull();
        assertThat(app.backends()).containsExactly(new BackendConfig(at("127.0.0.1", 9001), 1));
    }

    @Test
    void anHttpHealthCheckDefaultsToSlashAnd200AndALongBaseEjectionRaisesTheDefaultMaximum() throws Exception {
        ProxyConfig config = ConfigLoader.parse(withCluster("""
                [clusters.health_check]
                kind = "http"
                [clusters.outlier_detection]
                base_ejection_time = "10m"
                [[clusters.backends]]
                address = "127.0.0.1:9001"
                """), "test.toml");

        ClusterConfig app = config.clusters().get(0);
        assertThat(app.healthCheck())
                .isEqualTo(new HealthCheckConfig(
                        HealthCheckConfig.Kind.HTTP, Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3, "/", 200));
        assertThat(app.outlierDetection())
                .isEqualTo(new OutlierConfig(5, Duration.ofMinutes(10), Duration.ofMinutes(10), 10));
    }

    @Test
    void theSeedsFormatBecomesOneListenerAndOneWeightedRandomCluster() throws Exception {
        ProxyConfig config = ConfigLoader.load(resource("seed.toml"));

        assertThat(config.listeners())
                .containsExactly(new ListenerConfig(
                        "default",
                        at("127.0.0.1", 8080),
                        "default",
                        ListenerConfig.DEFAULT_MAX_CONNECTIONS,
                        ListenerConfig.DEFAULT_IDLE_TIMEOUT,
                        ProxyProtocol.NONE));
        assertThat(config.clusters()).hasSize(1);
        ClusterConfig cluster = config.clusters().get(0);
        assertThat(cluster.name()).isEqualTo("default");
        assertThat(cluster.balancer()).isEqualTo(Balancing.WEIGHTED_RANDOM);
        assertThat(cluster.backends())
                .containsExactly(
                        new BackendConfig(at("127.0.0.1", 8081), 1),
                        new BackendConfig(at("127.0.0.1", 8082), 2),
                        new BackendConfig(InetSocketAddress.createUnresolved("backend.local", 8083), 3));
        assertThat(config.admin().listen()).isEqualTo(ConfigLoader.DEFAULT_ADMIN_LISTEN);
    }

    @Test
    void theSeedsFormatMayBeCombinedWithTheGlobalTablesAndBareIpv6Hosts() throws Exception {
        ProxyConfig config = ConfigLoader.parse("""
                io_threads = 1
                host = "::"
                port = 8080
                [admin]
                listen = "127.0.0.1:9999"
                [log]
                json = true
                [[backends]]
                host = "::1"
                port = 9001
                """, "test.toml");

        assertThat(config.ioThreads()).isEqualTo(1);
        assertThat(config.listeners().get(0).listen()).isEqualTo(at("::", 8080));
        assertThat(config.admin().listen()).isEqualTo(at("127.0.0.1", 9999));
        assertThat(config.log().json()).isTrue();
        assertThat(config.clusters().get(0).backends()).containsExactly(new BackendConfig(at("::1", 9001), 1));
    }

    @Test
    void mixingTheSeedsFormatWithListenersIsAnError() {
        assertThat(problems("""
                        host = "0.0.0.0"
                        port = 8080
                        [[backends]]
                        host = "127.0.0.1"
                        port = 9001
                        weight = 1
                        [[listeners]]
                        name = "web"
                        listen = "0.0.0.0:8081"
                        cluster = "default"
                        """))
                .containsExactly("test.toml:7:1: 'listeners' cannot be mixed with the short format's top-level host,"
                        + " port and backends; use [[listeners]] and [[clusters]] only, or the short format only");
    }

    @Test
    void theSeedsFormatReportsMissingAndBadFields() {
        assertThat(problems("""
                        port = 80800
                        [[backends]]
                        address = "127.0.0.1:9001"
                        [[backends]]
                        host = "bad host"
                        port = 0
                        weight = 0
                        """))
                .containsExactly(
                        "test.toml:1:1: missing key 'host' at the top level (the address to listen on)",
                        "test.toml:1:8: port must be between 0 and 65535, was 80800",
                        "test.toml:2:1: missing key 'host' in backends[0] (the backend's address or name)",
                        "test.toml:2:1: missing key 'port' in backends[0] (the backend's port)",
                        "test.toml:3:1: unknown key 'address' in backends[0]; the short format's backends take"
                                + " host = \"...\" and port = ...",
                        "test.toml:6:8: port must be between 1 and 65535, was 0",
                        "test.toml:7:10: weight must be between 1 and 10000, was 0");
        assertThat(problems("""
                        host = "example.com"
                        port = 8080
                        backends = []
                        """))
                .containsExactly(
                        "test.toml:1:8: host must be a literal IP address, \"localhost\" or \"*\", was"
                                + " \"example.com\" (listeners do not resolve names)",
                        "test.toml:3:1: backends must list at least one backend");
    }

    @Test
    void syntaxErrorsAreReportedAloneAtTheirPosition() {
        assertThat(problems("""
                        io_threads = 2
                        [[listeners]]
                        name = "web
                        listen = [1,
                        """))
                .containsExactly(
                        "test.toml:3:12: Unexpected end of line, expected \" or a character",
                        "test.toml:5:1: Unexpected end of input, expected ] or a value; the array opened at line 4,"
                                + " column 10 is unclosed");
        assertThat(problems("a = 1\na = 2\n"))
                .containsExactly("test.toml:2:1: a previously defined at line 1, column 1");
    }

    @Test
    void unknownKeysAreReportedEverywhereWithTheClosestKnownKey() {
        assertThat(problems("""
                        io_thread = 2
                        [admin]
                        listn = "127.0.0.1:9901"
                        [[listeners]]
                        nmae = "web"
                        name = "web"
                        listen = "0.0.0.0:8080"
                        cluster = "app"
                        [[clusters]]
                        name = "app"
                        colour = "blue"
                        [clusters.helth_check]
                        [clusters.outlier_detection]
                        max_ejected = 10
                        [[clusters.backends]]
                        host = "127.0.0.1"
                        address = "127.0.0.1:9001"
                        [log]
                        lvl = "info"
                        """))
                .containsExactly(
                        "test.toml:1:1: unknown key 'io_thread' at the top level; did you mean 'io_threads'?",
                        "test.toml:3:1: unknown key 'listn' in admin; did you mean 'listen'?",
                        "test.toml:5:1: unknown key 'nmae' in listeners[0]; did you mean 'name'?",
                        "test.toml:11:1: unknown key 'colour' in clusters[0]; expected one of backends, balancer,"
                                + " connect_retries, connect_timeout, dns, drain_timeout, health_check,"
                                + " max_connections_per_backend, name, outlier_detection, send_proxy_protocol,"
                                + " slow_start",
                        "test.toml:12:1: unknown key 'helth_check' in clusters[0]; did you mean 'health_check'?",
                        "test.toml:14:1: unknown key 'max_ejected' in clusters[0].outlier_detection; did you mean"
                                + " 'max_ejected_percent'?",
                        "test.toml:16:1: unknown key 'host' in clusters[0].backends[0]; backends take address ="
                                + " \"HOST:PORT\"",
                        "test.toml:19:1: unknown key 'lvl' in log; did you mean 'level'?");
    }

    @Test
    void wrongTypesNameTheKeyTheExpectedFormAndTheActualType() {
        assertThat(problems("""
                        io_threads = "2"
                        [admin]
                        listen = 9901
                        [log]
                        json = "yes"
                        [[listeners]]
                        name = 7
                        listen = 8080
                        cluster = "app"
                        max_connections = 1.5
                        idle_timeout = 30
                        accept_proxy_protocol = true
                        [[clusters]]
                        name = "app"
                        connect_timeout = 5
                        health_check = "tcp"
                        [[clusters.backends]]
                        address = ["127.0.0.1", 9001]
                        weight = "1"
                        """))
                .containsExactly(
                        "test.toml:1:14: io_threads must be an integer, was a string",
                        "test.toml:3:10: listen must be a string like \"127.0.0.1:9901\", was an integer",
                        "test.toml:5:8: json must be true or false, was a string",
                        "test.toml:7:8: name must be a string, was an integer",
                        "test.toml:8:10: listen must be a string like \"0.0.0.0:8080\", was an integer",
                        "test.toml:10:19: max_connections must be an integer, was a float",
                        "test.toml:11:16: idle_timeout must be a duration like \"250ms\", \"5s\", \"1.5s\", \"1m\""
                                + " or \"1h\", was an integer",
                        "test.toml:12:25: accept_proxy_protocol must be one of \"none\", \"v1\", \"v2\", was a"
                                + " boolean",
                        "test.toml:15:19: connect_timeout must be a duration like \"250ms\", \"5s\", \"1.5s\","
                                + " \"1m\" or \"1h\", was an integer",
                        "test.toml:16:16: health_check must be a table ([clusters[0].health_check]), was a string",
                        "test.toml:18:11: address must be a string like \"127.0.0.1:9001\", was an array",
                        "test.toml:19:10: weight must be an integer, was a string");
    }

    @Test
    void tablesWhereArraysOfTablesBelongAreReported() {
        assertThat(problems("""
                        listeners = "web"
                        admin = []
                        [clusters]
                        name = "app"
                        """))
                .containsExactly(
                        "test.toml:1:13: listeners must be an array of tables ([[listeners]]), was a string",
                        "test.toml:2:9: admin must be a table ([admin]), was an array",
                        "test.toml:3:1: clusters must be an array of tables ([[clusters]]), was a table");
    }

    @Test
    void badDurationsListTheAcceptedForms() {
        assertThat(problems(withCluster("""
                        connect_timeout = "-5s"
                        drain_timeout = "0s"
                        slow_start = "soon"
                        [clusters.health_check]
                        interval = "0ms"
                        timeout = "2 s"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly(
                        "test.toml:8:19: connect_timeout must be a duration like \"250ms\", \"5s\", \"1.5s\", \"1m\""
                                + " or \"1h\", was \"-5s\"",
                        "test.toml:10:14: slow_start must be a duration like \"250ms\", \"5s\", \"1.5s\", \"1m\""
                                + " or \"1h\", was \"soon\"",
                        "test.toml:12:12: interval must be longer than zero, was \"0ms\"",
                        "test.toml:13:11: timeout must be a duration like \"250ms\", \"5s\", \"1.5s\", \"1m\" or"
                                + " \"1h\", was \"2 s\"");
    }

    @Test
    void slowStartWithABalancerThatDoesNotWeighBackendsIsAnError() {
        assertThat(problems(withCluster("""
                        balancer = "round-robin"
                        slow_start = "30s"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly("test.toml:9:14: slow_start has no effect with balancer round-robin, which does"
                        + " not weigh backends; use weighted-round-robin, weighted-random, least-connections or a"
                        + " p2c balancer, or remove slow_start");
    }

    @Test
    void dnsServersMustBeIpAddressesWithPorts() {
        assertThat(problems("""
                        [[listeners]]
                        name = "web"
                        listen = "127.0.0.1:8080"
                        cluster = "app"
                        [[clusters]]
                        name = "app"
                        [clusters.dns]
                        name = "app.example"
                        port = 80
                        servers = ["ns1.example:53", "10.0.0.1", 53]
                        """))
                .containsExactly(
                        "test.toml:10:12: servers[0] must be an IP address and a port from 1 to 65535, like"
                                + " \"127.0.0.1:8600\", was \"ns1.example:53\"",
                        "test.toml:10:30: servers[1] must be HOST:PORT, like \"127.0.0.1:53\", was \"10.0.0.1\"",
                        "test.toml:10:42: servers must be an array of strings like \"127.0.0.1:8600\", but element 2"
                                + " is an integer");
    }

    @Test
    void badAddressesNameTheKeyAndTheAcceptedForms() {
        assertThat(problems("""
                        [admin]
                        listen = "localhost"
                        [[listeners]]
                        name = "web"
                        listen = "example.com:8080"
                        cluster = "app"
                        [[clusters]]
                        name = "app"
                        [[clusters.backends]]
                        address = "::1:9001"
                        [[clusters.backends]]
                        address = "app.local:99999"
                        [[clusters.backends]]
                        address = "not a host:1"
                        """))
                .containsExactly(
                        "test.toml:2:10: listen must be HOST:PORT, like \"0.0.0.0:8080\", was \"localhost\"",
                        "test.toml:5:10: listen must be a literal IP address, \"localhost\" or \"*\" and a port, like"
                                + " \"0.0.0.0:8080\", was \"example.com:8080\" (listeners do not resolve names)",
                        "test.toml:10:11: address must be HOST:PORT with IPv6 in brackets, like \"[::1]:9001\", was"
                                + " \"::1:9001\"",
                        "test.toml:12:11: address must be HOST:PORT with a port from 0 to 65535, was"
                                + " \"app.local:99999\"",
                        "test.toml:14:11: address must be an IP address or a host name, was \"not a host:1\"");
    }

    @Test
    void listenersMustReferToAnExistingCluster() {
        assertThat(problems("""
                        [[listeners]]
                        name = "web"
                        listen = "0.0.0.0:8080"
                        cluster = "ap"
                        [[listeners]]
                        name = "api"
                        listen = "0.0.0.0:8081"
                        cluster = "payments"
                        [[clusters]]
                        name = "app"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """))
                .containsExactly(
                        "test.toml:4:11: unknown cluster 'ap' in listeners[0]; did you mean 'app'?",
                        "test.toml:8:11: unknown cluster 'payments' in listeners[1]; clusters are: app");
        assertThat(problems("""
                        [[listeners]]
                        name = "web"
                        listen = "0.0.0.0:8080"
                        cluster = "app"
                        """))
                .containsExactly("test.toml:4:11: unknown cluster 'app' in listeners[0]; there are no [[clusters]]");
    }

    @Test
    void namesMustBeUniqueAndWellFormed() {
        assertThat(problems("""
                        [[listeners]]
                        name = "web"
                        listen = "0.0.0.0:8080"
                        cluster = "app"
                        [[listeners]]
                        name = "web"
                        listen = "0.0.0.0:8081"
                        cluster = "app"
                        [[clusters]]
                        name = "app"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        [[clusters]]
                        name = "app"
                        [[clusters.backends]]
                        address = "127.0.0.1:9002"
                        [[clusters]]
                        name = "my app"
                        [[clusters.backends]]
                        address = "127.0.0.1:9003"
                        """))
                .containsExactly(
                        "test.toml:6:8: duplicate listener name 'web' (first defined at line 2)",
                        "test.toml:14:8: duplicate cluster name 'app' (first defined at line 10)",
                        "test.toml:18:8: name must be 1 to 64 letters, digits, '-', '_' or '.', starting with a"
                                + " letter or digit, was \"my app\"");
    }

    @Test
    void listenAddressesMustNotCollideWithEachOtherOrTheAdminServer() {
        assertThat(problems("""
                        [[listeners]]
                        name = "a"
                        listen = "0.0.0.0:8080"
                        cluster = "app"
                        [[listeners]]
                        name = "b"
                        listen = "127.0.0.1:8080"
                        cluster = "app"
                        [[listeners]]
                        name = "c"
                        listen = "127.0.0.1:9901"
                        cluster = "app"
                        [[listeners]]
                        name = "d"
                        listen = "127.0.0.1:0"
                        cluster = "app"
                        [[listeners]]
                        name = "e"
                        listen = "127.0.0.1:0"
                        cluster = "app"
                        [[listeners]]
                        name = "f"
                        listen = "[::1]:8080"
                        cluster = "app"
                        [[clusters]]
                        name = "app"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """))
                .containsExactly(
                        "test.toml:7:10: listen address 127.0.0.1:8080 collides with listener 'a' at line 3"
                                + " (0.0.0.0:8080)",
                        "test.toml:11:10: listen address 127.0.0.1:9901 collides with the admin server (by default)"
                                + " (127.0.0.1:9901)");
        assertThat(problems("""
                        [admin]
                        listen = "[::]:8080"
                        [[listeners]]
                        name = "a"
                        listen = "10.0.0.1:8080"
                        cluster = "app"
                        [[clusters]]
                        name = "app"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """))
                .containsExactly("test.toml:5:10: listen address 10.0.0.1:8080 collides with the admin server at line 2"
                        + " ([::]:8080)");
    }

    @Test
    void balancerNamesAreListedWhenUnknown() {
        assertThat(problems(withCluster("""
                        balancer = "p2c"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly("test.toml:8:12: balancer must be one of \"round-robin\", \"weighted-round-robin\","
                        + " \"weighted-random\", \"least-connections\", \"p2c-least-loaded\", \"p2c-peak-ewma\","
                        + " \"consistent-hash\", was \"p2c\"");
        assertThat(problems(withCluster("""
                        balancer = "round_robin"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .singleElement()
                .asString()
                .endsWith("was \"round_robin\"; did you mean \"round-robin\"?");
    }

    @Test
    void weightsAndCountsMustBeInRange() {
        assertThat(problems("""
                        io_threads = 0
                        [[listeners]]
                        name = "web"
                        listen = "0.0.0.0:8080"
                        cluster = "app"
                        max_connections = 0
                        [[clusters]]
                        name = "app"
                        connect_retries = -1
                        max_connections_per_backend = 0
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        weight = 0
                        [[clusters.backends]]
                        address = "127.0.0.1:9002"
                        weight = 10001
                        [[clusters.backends]]
                        address = "127.0.0.1:9003"
                        weight = 10000
                        """))
                .containsExactly(
                        "test.toml:1:14: io_threads must be between 1 and 1024, was 0",
                        "test.toml:6:19: max_connections must be at least 1, was 0",
                        "test.toml:9:19: connect_retries must be between 0 and 100, was -1",
                        "test.toml:10:31: max_connections_per_backend must be at least 1, was 0",
                        "test.toml:13:10: weight must be between 1 and 10000, was 0",
                        "test.toml:16:10: weight must be between 1 and 10000, was 10001");
    }

    @Test
    void aClusterNeedsExactlyOneOfBackendsAndDns() {
        assertThat(problems(withCluster("")))
                .containsExactly("test.toml:6:1: cluster 'app' has no backends: add [[clusters.backends]] tables with"
                        + " address, or a [clusters.dns] table with name and port");
        assertThat(problems(withCluster("backends = []\n")))
                .containsExactly("test.toml:8:1: cluster 'app' has no backends: add [[clusters.backends]] tables with"
                        + " address, or a [clusters.dns] table with name and port");
        assertThat(problems(withCluster("""
                        [clusters.dns]
                        name = "app.svc"
                        port = 80
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly("test.toml:8:1: cluster 'app' has both backends and dns; use one of them");
    }

    @Test
    void dnsNeedsAValidNameAndPort() {
        assertThat(problems(withCluster("""
                        [clusters.dns]
                        name = "app..svc"
                        """)))
                .containsExactly(
                        "test.toml:8:1: missing key 'port' in clusters[0].dns (the backends' port)",
                        "test.toml:9:8: name must be a host name like \"app.default.svc.cluster.local\", was"
                                + " \"app..svc\"");
        assertThat(problems(withCluster("""
                        [clusters.dns]
                        port = 0
                        """)))
                .containsExactly(
                        "test.toml:8:1: missing key 'name' in clusters[0].dns (the host name to resolve)",
                        "test.toml:9:8: port must be between 1 and 65535, was 0");
    }

    @Test
    void duplicateBackendAddressesAreReported() {
        assertThat(problems(withCluster("""
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly("test.toml:11:11: duplicate backend address 127.0.0.1:9001 (first at line 9); give"
                        + " one backend a higher weight instead");
    }

    @Test
    void healthCheckFieldsAreCheckedAgainstTheirKind() {
        assertThat(problems(withCluster("""
                        [clusters.health_check]
                        kind = "udp"
                        rise = 0
                        fall = 101
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly(
                        "test.toml:9:8: kind must be one of \"tcp\", \"http\", was \"udp\"",
                        "test.toml:10:8: rise must be between 1 and 100, was 0",
                        "test.toml:11:8: fall must be between 1 and 100, was 101");
        assertThat(problems(withCluster("""
                        [clusters.health_check]
                        kind = "tcp"
                        path = "/healthz"
                        expected_status = 204
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly(
                        "test.toml:10:1: path applies only to kind = \"http\" (this check is kind = \"tcp\")",
                        "test.toml:11:1: expected_status applies only to kind = \"http\" (this check is kind ="
                                + " \"tcp\")");
        assertThat(problems(withCluster("""
                        [clusters.health_check]
                        kind = "http"
                        path = "healthz"
                        expected_status = 700
                        interval = "1s"
                        timeout = "2s"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly(
                        "test.toml:10:8: path must start with '/', like \"/healthz\", was \"healthz\"",
                        "test.toml:11:19: expected_status must be between 100 and 599, was 700",
                        "test.toml:13:11: timeout (2s) must not be longer than interval (1s): checks would overlap");
        // A bad interval is reported alone: its default standing in is not compared with timeout.
        assertThat(problems(withCluster("""
                        [clusters.health_check]
                        interval = "soon"
                        timeout = "5s"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .hasSize(1)
                .allSatisfy(problem -> assertThat(problem).startsWith("test.toml:9:12: interval "));
        assertThat(problems(withCluster("""
                        [clusters.health_check]
                        interval = "1s"
                        timeout = "1500ms"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly("test.toml:10:11: timeout (1500ms) must not be longer than interval (1s): checks"
                        + " would overlap");
    }

    @Test
    void outlierSettingsAreCheckedTogether() {
        assertThat(problems(withCluster("""
                        [clusters.outlier_detection]
                        consecutive_failures = 0
                        max_ejected_percent = 101
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly(
                        "test.toml:9:24: consecutive_failures must be between 1 and 1000, was 0",
                        "test.toml:10:23: max_ejected_percent must be between 0 and 100, was 101");
        assertThat(problems(withCluster("""
                        [clusters.outlier_detection]
                        consecutive_failures = 0
                        base_ejection_time = "1m"
                        max_ejection_time = "30s"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly(
                        "test.toml:9:24: consecutive_failures must be between 1 and 1000, was 0",
                        "test.toml:11:21: max_ejection_time (30s) must not be shorter than base_ejection_time (1m)");
        assertThat(problems(withCluster("""
                        [clusters.outlier_detection]
                        base_ejection_time = "1m"
                        max_ejection_time = "30s"
                        [[clusters.backends]]
                        address = "127.0.0.1:9001"
                        """)))
                .containsExactly("test.toml:10:21: max_ejection_time (30s) must not be shorter than"
                        + " base_ejection_time (1m)");
    }

    @Test
    void missingRequiredKeysAreReportedAtTheirTable() {
        assertThat(problems("""
                        [[listeners]]
                        listen = "0.0.0.0:8080"

                        [[clusters]]
                        [[clusters.backends]]
                        weight = 2
                        """))
                .containsExactly(
                        "test.toml:1:1: missing key 'name' in listeners[0] (the listener's name, used in logs and"
                                + " metrics)",
                        "test.toml:1:1: missing key 'cluster' in listeners[0] (the name of the cluster to forward"
                                + " to)",
                        "test.toml:4:1: missing key 'name' in clusters[0] (the cluster's name, which listeners refer"
                                + " to)",
                        "test.toml:5:1: missing key 'address' in clusters[0].backends[0] (where to connect, like"
                                + " \"127.0.0.1:9001\")");
        assertThat(problems("io_threads = 2\n"))
                .containsExactly("test.toml:1:1: no listeners: add a [[listeners]] table with name, listen and cluster"
                        + " (or use the short format: host, port and [[backends]])");
    }

    @Test
    void aClusterWithoutListenersIsAllowed() throws Exception {
        ProxyConfig config = ConfigLoader.parse(withCluster("""
                [[clusters.backends]]
                address = "127.0.0.1:9001"
                [[clusters]]
                name = "spare"
                [[clusters.backends]]
                address = "127.0.0.1:9002"
                """), "test.toml");

        assertThat(config.clusters()).extracting(ClusterConfig::name).containsExactly("app", "spare");
    }

    @Test
    void severalProblemsAreReportedAtOnceInFileOrder() throws Exception {
        ConfigException e =
                catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(resource("broken.toml")));

        String file = resource("broken.toml").toString();
        assertThat(e.problems())
                .extracting(ConfigProblem::toString)
                .containsExactly(
                        file + ":3:10: listen must be a string like \"0.0.0.0:8080\", was an integer",
                        file + ":4:11: unknown cluster 'ap' in listeners[0]; did you mean 'app'?",
                        file + ":6:1: cluster 'app' has no backends: add [[clusters.backends]] tables with address,"
                                + " or a [clusters.dns] table with name and port",
                        file + ":8:12: balancer must be one of \"round-robin\", \"weighted-round-robin\","
                                + " \"weighted-random\", \"least-connections\", \"p2c-least-loaded\","
                                + " \"p2c-peak-ewma\", \"consistent-hash\", was \"fastest\"",
                        file + ":9:19: connect_timeout must be a duration like \"250ms\", \"5s\", \"1.5s\", \"1m\" or"
                                + " \"1h\", was \"5 seconds\"");
        assertThat(e.problems().get(0))
                .isEqualTo(new ConfigProblem(file, 3, 10, e.problems().get(0).message()));
    }

    @Test
    void anUnreadableFileIsOneProblemNamingTheFile(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nope.toml");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(missing));
        assertThat(e.problems())
                .containsExactly(new ConfigProblem(missing.toString(), 0, 0, "cannot read config file: no such file"));
        assertThat(e.getMessage()).isEqualTo(missing + ": cannot read config file: no such file");

        Path latin1 = dir.resolve("latin1.toml");
        Files.write(latin1, new byte[] {'a', ' ', '=', ' ', '"', (byte) 0xE9, '"', '\n'});
        assertThat(catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(latin1))
                        .getMessage())
                .isEqualTo(latin1 + ": cannot read config file: not UTF-8 text");

        assertThat(catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(dir))
                        .problems())
                .singleElement()
                .satisfies(problem -> {
                    assertThat(problem.line()).isZero();
                    assertThat(problem.message()).startsWith("cannot read config file: ");
                });
    }
}
