package dev.belfry.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlTable;

/**
 * Holds {@code docs/configuration.md} to the loader: its examples name exactly the keys the loader
 * accepts, and the values its full example gives as defaults are the loader's defaults.
 *
 * <p>The full example's convention, which this test enforces: every key is written with its
 * default value, except the ones whose comment says {@code required} (the user must choose them)
 * and {@code io_threads} (its default depends on the machine). Keys that apply only in another
 * setting ({@code path} for HTTP checks, the DNS table) are written commented out.
 */
class ConfigDocsTest {
    private static final Path DOC = Path.of("..", "docs", "configuration.md");
    private static final Pattern COMMENTED_KEY = Pattern.compile("(?m)^# (\\[?[a-z_.]+\\]? ?=? ?.*)$");

    private static String full;
    private static String shortFormat;

    @BeforeAll
    static void readTheDocs() throws IOException {
        String doc = Files.readString(DOC);
        full = tomlBlockAfter(doc, "## The full format");
        shortFormat = tomlBlockAfter(doc, "## The short format");
    }

    @Test
    void theFullExampleNamesExactlyTheKeysTheLoaderAccepts() {
        String everything = uncommentKeys(full);
        assertThat(documentedKeys(everything)).isEqualTo(ConfigLoader.acceptedKeys(everything));
    }

    @Test
    void theShortExampleNamesExactlyTheKeysTheLoaderAccepts() throws ConfigException {
        ConfigLoader.parse(shortFormat, "short example");
        Map<String, Set<String>> documented = documentedKeys(shortFormat);
        Map<String, Set<String>> accepted = ConfigLoader.acceptedKeys(shortFormat);
        assertThat(accepted.get("backends")).isEqualTo(documented.get("backends"));
        // The text under the example: "may be combined with io_threads, [admin] and [log]".
        Set<String> top = new TreeSet<>(documented.get(""));
        top.addAll(List.of("io_threads", "admin", "log"));
        assertThat(accepted.get("")).isEqualTo(top);
    }

    @Test
    void theFullExampleLoads() throws ConfigException {
        ProxyConfig config = ConfigLoader.parse(withoutLine(full, "proxy_protocol_timeout"), "full example");
        assertThat(config.listeners()).hasSize(1);
        assertThat(config.clusters().get(0).healthCheck()).isNotNull();
        assertThat(config.clusters().get(0).outlierDetection()).isNotNull();
    }

    @Test
    void theValuesTheFullExampleGivesAreTheDefaults() throws ConfigException {
        // proxy_protocol_timeout is refused without accept_proxy_protocol: checked on its own below.
        String documented = withoutLine(withoutLine(full, "io_threads"), "proxy_protocol_timeout");
        String requiredOnly = requiredOnly(documented);
        assertThat(requiredOnly).doesNotContain("balancer", "interval", "weight");

        assertThat(ConfigLoader.parse(requiredOnly, "required keys only"))
                .isEqualTo(ConfigLoader.parse(documented, "full example"));
    }

    @Test
    void theDocumentedDefaultsOfKeysThatApplyOnlyElsewhereAreTheDefaults() throws ConfigException {
        String http = full.replace("kind = \"tcp\"", "kind = \"http\"");
        String withPath = uncommentLine(uncommentLine(http, "path"), "expected_status");
        assertThat(ConfigLoader.parse(withoutLine(withPath, "proxy_protocol_timeout"), "http check"))
                .isEqualTo(ConfigLoader.parse(withoutLine(http, "proxy_protocol_timeout"), "http check"));

        String v1 = full.replace("accept_proxy_protocol = \"none\"", "accept_proxy_protocol = \"v1\"");
        assertThat(ConfigLoader.parse(v1, "PROXY header"))
                .isEqualTo(ConfigLoader.parse(withoutLine(v1, "proxy_protocol_timeout"), "PROXY header"));
    }

    @Test
    void aKeyNoReaderAsksForIsReportedWithTheClosestAcceptedOne() {
        String typo = full.replace("connect_retries = 2", "conect_retries = 2");
        assertThat(typo).isNotEqualTo(full);
        assertThat(problems(withoutLine(typo, "proxy_protocol_timeout")))
                .singleElement()
                .satisfies(problem -> assertThat(problem.message())
                        .isEqualTo("unknown key 'conect_retries' in clusters[0]; did you mean 'connect_retries'?"));
    }

    private static List<ConfigProblem> problems(String text) {
        try {
            ConfigLoader.parse(text, "t");
            return List.of();
        } catch (ConfigException e) {
            return e.problems();
        }
    }

    /** The keys written in each table of {@code text}, by table path without array indices. */
    private static Map<String, Set<String>> documentedKeys(String text) {
        TomlParseResult toml = Toml.parse(text);
        assertThat(toml.errors()).isEmpty();
        Map<String, Set<String>> keys = new TreeMap<>();
        collect(toml, "", keys);
        return keys;
    }

    private static void collect(TomlTable table, String path, Map<String, Set<String>> keys) {
        Set<String> own = keys.computeIfAbsent(path, k -> new TreeSet<>());
        for (String key : table.keySet()) {
            own.add(key);
            Object value = table.get(List.of(key));
            String child = path.isEmpty() ? key : path + "." + key;
            if (value instanceof TomlTable sub) {
                collect(sub, child, keys);
            } else if (value instanceof TomlArray array && !array.isEmpty() && array.get(0) instanceof TomlTable) {
                for (int i = 0; i < array.size(); i++) {
                    collect(array.getTable(i), child, keys);
                }
            }
        }
    }

    private static String tomlBlockAfter(String doc, String heading) {
        int at = doc.indexOf(heading);
        assertThat(at).as("heading %s in %s", heading, DOC).isNotNegative();
        int start = doc.indexOf("```toml\n", at) + "```toml\n".length();
        int end = doc.indexOf("```", start);
        return doc.substring(start, end);
    }

    /** Turns every commented-out key line and table header into a written one. */
    private static String uncommentKeys(String text) {
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            Matcher key = COMMENTED_KEY.matcher(line);
            boolean isKey = key.matches() && (line.startsWith("# [") || line.matches("# [a-z_]+ = .*"));
            out.append(isKey ? key.group(1) : line).append('\n');
        }
        return out.toString();
    }

    private static String uncommentLine(String text, String key) {
        String result = text.replaceFirst("(?m)^# (" + Pattern.quote(key) + " = )", "$1");
        assertThat(result).as("a commented-out %s line", key).isNotEqualTo(text);
        return result;
    }

    private static String withoutLine(String text, String key) {
        String result = text.replaceFirst("(?m)^" + Pattern.quote(key) + " = .*\\n(^ +#.*\\n)*", "");
        assertThat(result).as("a %s line", key).isNotEqualTo(text);
        return result;
    }

    /** Keeps table headers and the keys whose comment says they are required. */
    private static String requiredOnly(String text) {
        List<String> kept = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            boolean isKey = line.matches("[a-z_]+ = .*");
            if (!isKey || line.contains("# required")) {
                kept.add(line);
            }
        }
        return String.join("\n", kept);
    }
}
