package dev.belfry.proxy.admin;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parser of the Prometheus text format 0.0.4 for tests: every sample line must parse, and samples
 * are keyed as {@code name{a="1",b="2"}} with labels sorted by name, so lookups do not depend on the
 * writer's label order.
 */
final class PrometheusText {
    private static final Pattern SAMPLE =
            Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");
    private static final Pattern COMMENT = Pattern.compile("# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*");

    private PrometheusText() {}

    /** The samples of {@code text}, by key; throws if any line is not valid exposition text. */
    static Map<String, Double> parse(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                if (!COMMENT.matcher(line).matches()) {
                    throw new IllegalArgumentException("bad comment line: " + line);
                }
                continue;
            }
            Matcher sample = SAMPLE.matcher(line);
            if (!sample.matches()) {
                throw new IllegalArgumentException("bad sample line: " + line);
            }
            Map<String, String> labels = new TreeMap<>();
            String labelText = sample.group(2);
            if (labelText != null) {
                Matcher label = LABEL.matcher(labelText);
                int end = 0;
                while (label.lookingAt()) {
                    labels.put(label.group(1), label.group(2));
                    end = label.end();
                    label.region(end, labelText.length());
                }
                if (end != labelText.length()) {
                    throw new IllegalArgumentException("bad labels: " + line);
                }
            }
            String key = key(sample.group(1), labels);
            if (samples.put(key, value(sample.group(3))) != null) {
                throw new IllegalArgumentException("duplicate sample: " + line);
            }
        }
        return samples;
    }

    /** The key of a sample: {@code key("m", "b", "2", "a", "1")} is {@code m{a="1",b="2"}}. */
    static String key(String name, String... labelPairs) {
        Map<String, String> labels = new TreeMap<>();
        for (int i = 0; i < labelPairs.length; i += 2) {
            labels.put(labelPairs[i], labelPairs[i + 1]);
        }
        return key(name, labels);
    }

    private static String key(String name, Map<String, String> labels) {
        if (labels.isEmpty()) {
            return name;
        }
        var key = new StringBuilder(name).append('{');
        labels.forEach((k, v) -> key.append(k).append("=\"").append(v).append("\","));
        key.setLength(key.length() - 1);
        return key.append('}').toString();
    }

    private static double value(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(text);
        };
    }
}
