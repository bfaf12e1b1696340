package dev.belfry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.proxy.config.ClusterConfig;
import dev.belfry.proxy.config.ConfigException;
import dev.belfry.proxy.config.ConfigLoader;
import dev.belfry.proxy.config.DnsConfig;
import dev.belfry.proxy.config.ListenerConfig;
import dev.belfry.proxy.config.ProxyConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The deployment files in {@code deploy/}: the ConfigMap's {@code belfry.toml} passes the checks of
 * {@code belfry check}, and the Kubernetes manifests and the Dockerfile agree with it and with each
 * other (ports, DNS name, paths, shutdown timing).
 *
 * <p>The YAML is read with a few line-based helpers rather than a YAML library: the manifests are
 * plain block-style YAML, and a helper that finds nothing fails the test with the key it looked for.
 */
class DeployManifestTest {
    /** Surefire runs in the module's directory; {@code deploy/} is beside it. */
    private static final Path DEPLOY = Path.of("..", "deploy");

    private static final Path K8S = DEPLOY.resolve("k8s");

    private static final Pattern COMMA = Pattern.compile(",");

    @Test
    void theConfigMapsConfigPassesTheChecksOfBelfryCheck() throws ConfigException {
        ProxyConfig config = config();

        assertThat(config.listeners()).hasSize(1);
        ListenerConfig listener = config.listeners().get(0);
        assertThat(listener.listen().getAddress().isAnyLocalAddress())
                .as("the listener must accept connections arriving on the pod IP: %s", listener.listen())
                .isTrue();
        assertThat(listener.listen().getPort()).isEqualTo(8080);
        ClusterConfig cluster = config.cluster(listener.cluster());
        assertThat(cluster).isNotNull();
        assertThat(cluster.backends()).isEmpty();
        assertThat(cluster.dns()).isNotNull();
        assertThat(cluster.healthCheck()).isNotNull();
        assertThat(cluster.outlierDetection()).isNotNull();
    }

    @Test
    void theClusterResolvesTheHeadlessServiceByItsFullDnsName() throws ConfigException {
        List<String> service = lines(K8S.resolve("backend-headless-service.yaml"));
        DnsConfig dns = config().clusters().get(0).dns();

        assertThat(scalar(service, "kind")).isEqualTo("Service");
        assertThat(scalar(block(service, "spec"), "clusterIP")).isEqualTo("None");
        List<String> metadata = block(service, "metadata");
        assertThat(dns).isNotNull();
        assertThat(dns.name())
                .isEqualTo(scalar(metadata, "name") + "." + scalar(metadata, "namespace") + ".svc.cluster.local");
        List<String> ports = block(block(service, "spec"), "ports");
        assertThat(Integer.parseInt(scalar(ports, "port"))).isEqualTo(dns.port());
        assertThat(Integer.parseInt(scalar(ports, "targetPort"))).isEqualTo(dns.port());
    }

    @Test
    void theServicePublishesTheListenerButNotTheAdminServer() throws ConfigException {
        List<String> ports = block(block(lines(K8S.resolve("service.yaml")), "spec"), "ports");
        ProxyConfig config = config();

        assertThat(Integer.parseInt(scalar(ports, "targetPort")))
                .isEqualTo(config.listeners().get(0).listen().getPort());
        assertThat(String.join("\n", ports))
                .doesNotContain(String.valueOf(config.admin().listen().getPort()));
    }

    @Test
    void theProbesReachTheAdminServerWhereItListensInThePod() throws ConfigException {
        List<String> container = container();
        InetSocketAddress admin = config().admin().listen();

        // The kubelet connects to the pod IP: an admin server on loopback would fail every probe.
        assertThat(admin.getAddress().isAnyLocalAddress())
                .as("[admin] listen must be a wildcard address, was %s", admin)
                .isTrue();
        List<String> liveness = block(block(container, "livenessProbe"), "httpGet");
        List<String> readiness = block(block(container, "readinessProbe"), "httpGet");
        assertThat(scalar(liveness, "path")).isEqualTo("/live");
        assertThat(scalar(readiness, "path")).isEqualTo("/ready");
        assertThat(Integer.parseInt(scalar(liveness, "port"))).isEqualTo(admin.getPort());
        assertThat(Integer.parseInt(scalar(readiness, "port"))).isEqualTo(admin.getPort());
    }

    @Test
    void theGracePeriodCoversThePreStopPauseAndTheLongestDrain() throws ConfigException {
        List<String> deployment = lines(K8S.resolve("deployment.yaml"));
        Duration drain = Duration.ZERO;
        for (ClusterConfig cluster : config().clusters()) {
            drain = cluster.drainTimeout().compareTo(drain) > 0 ? cluster.drainTimeout() : drain;
        }
        List<String> preStop =
                flowList(scalar(block(block(block(container(), "lifecycle"), "preStop"), "exec"), "command"));
        assertThat(preStop).hasSize(2).first().isEqualTo("sleep");
        Duration pause = Duration.ofSeconds(Long.parseLong(preStop.get(1)));
        Duration grace = Duration.ofSeconds(Long.parseLong(scalar(deployment, "terminationGracePeriodSeconds")));

        assertThat(drain).isEqualTo(Duration.ofSeconds(30));
        assertThat(pause).isPositive();
        // The grace period counts from the start of preStop; past it the kubelet kills the proxy
        // and cuts whatever is still open.
        assertThat(grace).isGreaterThan(pause.plus(drain));
    }

    @Test
    void theContainerRunsTheConfigFileTheConfigMapIsMountedAs() {
        List<String> deployment = lines(K8S.resolve("deployment.yaml"));
        List<String> configMap = lines(K8S.resolve("configmap.yaml"));
        List<String> container = container();
        List<String> mount = listItem(block(container, "volumeMounts"), "name", "config");
        List<String> volume = listItem(block(deployment, "volumes"), "name", "config");

        assertThat(scalar(block(volume, "configMap"), "name")).isEqualTo(scalar(block(configMap, "metadata"), "name"));
        // A subPath mount never sees ConfigMap updates, so a reload would reread the old file.
        assertThat(String.join("\n", mount)).doesNotContain("subPath");
        assertThat(flowList(scalar(container, "args")))
                .containsExactly("run", "--config", scalar(mount, "mountPath") + "/belfry.toml");
        assertThat(String.join("\n", configMap)).contains("  belfry.toml: |");
    }

    @Test
    void theImagesDefaultCommandIsTheOneTheDeploymentRuns() {
        List<String> dockerfile = lines(DEPLOY.resolve("Dockerfile"));

        assertThat(flowList(instruction(dockerfile, "CMD"))).isEqualTo(flowList(scalar(container(), "args")));
        List<String> entrypoint = flowList(instruction(dockerfile, "ENTRYPOINT"));
        assertThat(entrypoint).startsWith("java", "--enable-native-access=ALL-UNNAMED");
        assertThat(entrypoint.subList(entrypoint.size() - 2, entrypoint.size()))
                .containsExactly("-jar", "/opt/belfry/belfry.jar");
        assertThat(dockerfile).contains("COPY --from=build /src/belfry-proxy/target/belfry.jar /opt/belfry/belfry.jar");
        // A numeric USER lets runAsNonRoot verify the image; the pod asks for the same IDs.
        List<String> user = dockerfile.stream()
                .filter(line -> line.startsWith("USER "))
                .map(line -> line.substring("USER ".length()).strip())
                .toList();
        assertThat(user).singleElement().asString().matches("[1-9][0-9]*:[1-9][0-9]*");
        List<String> podSecurity =
                block(block(block(lines(K8S.resolve("deployment.yaml")), "template"), "spec"), "securityContext");
        assertThat(scalar(podSecurity, "runAsUser") + ":" + scalar(podSecurity, "runAsGroup"))
                .isEqualTo(user.get(0));
        assertThat(scalar(podSecurity, "runAsNonRoot")).isEqualTo("true");
    }

    @Test
    void theKustomizationListsEveryManifest() throws IOException {
        List<String> resources = new ArrayList<>();
        for (String line : block(lines(K8S.resolve("kustomization.yaml")), "resources")) {
            resources.add(line.strip().substring("- ".length()));
        }
        List<String> manifests;
        try (Stream<Path> files = Files.list(K8S)) {
            manifests = files.map(file -> file.getFileName().toString())
                    .filter(name -> name.endsWith(".yaml") && !name.equals("kustomization.yaml"))
                    .toList();
        }

        assertThat(resources).containsExactlyInAnyOrderElementsOf(manifests);
        for (String manifest : manifests) {
            assertThat(scalar(block(lines(K8S.resolve(manifest)), "metadata"), "namespace"))
                    .as(manifest)
                    .isEqualTo("default");
        }
    }

    /**
     * The ConfigMap's {@code belfry.toml}, read by the code behind {@code belfry check}. Problems
     * name the YAML file's lines (columns count from the block's indentation).
     */
    private static ProxyConfig config() throws ConfigException {
        List<String> yaml = lines(K8S.resolve("configmap.yaml"));
        // Straight from the file: block() leaves comment lines out except inside a literal block.
        List<String> toml = block(yaml, "belfry.toml");
        int indent = indentOf(toml.get(0));
        // Blank lines in place of the YAML above the block keep the line numbers the file's.
        StringBuilder text = new StringBuilder("\n".repeat(yaml.indexOf(toml.get(0))));
        for (String line : toml) {
            // A literal block scalar: its lines less the block's indentation.
            text.append(line.isBlank() ? "" : line.substring(indent)).append('\n');
        }
        return ConfigLoader.parse(text.toString(), "deploy/k8s/configmap.yaml");
    }

    /** The proxy's container in deployment.yaml. */
    private static List<String> container() {
        return listItem(block(lines(K8S.resolve("deployment.yaml")), "containers"), "name", "belfry");
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The lines nested under the first {@code key:} in {@code lines} (more indented than the key,
     * up to the next line that is not), comment lines left out. For a key that is itself a list
     * item ({@code - key:}), the item's other keys are not included.
     */
    private static List<String> block(List<String> lines, String key) {
        Pattern header = Pattern.compile("^(\\s*(?:- )?)" + Pattern.quote(key) + ":(\\s*\\|)?\\s*(#.*)?$");
        for (int i = 0; i < lines.size(); i++) {
            Matcher matcher = header.matcher(lines.get(i));
            if (!matcher.matches()) {
                continue;
            }
            int keyIndent = matcher.group(1).length();
            boolean literal = matcher.group(2) != null;
            List<String> result = new ArrayList<>();
            for (int j = i + 1; j < lines.size(); j++) {
                String line = lines.get(j);
                if (line.isBlank()) {
                    result.add(line);
                    continue;
                }
                if (indentOf(line) <= keyIndent) {
                    break;
                }
                if (literal || !line.strip().startsWith("#")) {
                    result.add(line);
                }
            }
            while (!result.isEmpty() && result.get(result.size() - 1).isBlank()) {
                result.remove(result.size() - 1);
            }
            assertThat(result).as("block under %s:", key).isNotEmpty();
            return result;
        }
        throw new AssertionError("no key '" + key + ":' in:\n" + String.join("\n", lines));
    }

    /** The value of the first {@code key: value} in {@code lines}, without quotes or a comment. */
    private static String scalar(List<String> lines, String key) {
        Pattern pattern = Pattern.compile("^\\s*(?:- )?" + Pattern.quote(key) + ":\\s+(\\S.*?)\\s*(?:#.*)?$");
        for (String line : lines) {
            Matcher matcher = pattern.matcher(line);
            if (matcher.matches()) {
                return unquote(matcher.group(1));
            }
        }
        throw new AssertionError("no '" + key + ": value' in:\n" + String.join("\n", lines));
    }

    /** The item of the YAML list {@code lines} that has {@code key: value}, without its dash. */
    private static List<String> listItem(List<String> lines, String key, String value) {
        List<List<String>> items = new ArrayList<>();
        int itemIndent = -1;
        for (String line : lines) {
            String content = line;
            // Only dashes at the list's own indentation start items; deeper ones are nested lists.
            if (line.strip().startsWith("- ") && (itemIndent < 0 || indentOf(line) == itemIndent)) {
                itemIndent = indentOf(line);
                items.add(new ArrayList<>());
                content = line.replaceFirst("- ", "  ");
            }
            if (!items.isEmpty()) {
                items.get(items.size() - 1).add(content);
            }
        }
        for (List<String> item : items) {
            if (item.stream().anyMatch(line -> line.strip().equals(key + ": " + value))) {
                return item;
            }
        }
        throw new AssertionError("no list item with " + key + ": " + value + " in:\n" + String.join("\n", lines));
    }

    /** The JSON-array argument of a Dockerfile instruction (exec form). */
    private static String instruction(List<String> dockerfile, String name) {
        String found = null;
        for (String line : dockerfile) {
            if (line.startsWith(name + " ")) {
                // The last one counts, as in Docker.
                found = line.substring(name.length() + 1).strip();
            }
        }
        assertThat(found).as("%s in the Dockerfile", name).isNotNull().startsWith("[");
        return found;
    }

    /** The strings of a flow sequence such as {@code ["run", "--config", "/etc/x"]}. */
    private static List<String> flowList(String text) {
        assertThat(text).startsWith("[").endsWith("]");
        return COMMA.splitAsStream(text.substring(1, text.length() - 1))
                .map(item -> unquote(item.strip()))
                .toList();
    }

    private static String unquote(String value) {
        if (value.length() >= 2
                && ((value.startsWith("\"") && value.endsWith("\""))
                        || (value.startsWith("'") && value.endsWith("'")))) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }

    private static int indentOf(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) == ' ') {
            i++;
        }
        return i;
    }
}
