package dev.belfry.http.router;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** A parsed path pattern; immutable. */
final class Pattern {
    private static final int LITERAL = 2;
    private static final int PARAM = 1;
    private static final int WILDCARD = 0;

    final String template;
    private final List<String> segments; // literal text, or the parameter name
    private final int[] kinds;

    private Pattern(String template, List<String> segments, int[] kinds) {
        this.template = template;
        this.segments = segments;
        this.kinds = kinds;
    }

    static Pattern parse(String template) {
        if (!template.startsWith("/")) {
            throw new IllegalArgumentException("a route pattern starts with '/', was '" + template + "'");
        }
        List<String> segments = new ArrayList<>();
        List<Integer> kinds = new ArrayList<>();
        Set<String> names = new HashSet<>();
        String[] parts = template.substring(1).split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (part.equals("*")) {
                if (i != parts.length - 1) {
                    throw new IllegalArgumentException("'*' must be the last segment of '" + template + "'");
                }
                segments.add("*");
                kinds.add(WILDCARD);
            } else if (part.startsWith("{") && part.endsWith("}")) {
                String name = part.substring(1, part.length() - 1);
                if (name.isEmpty() || name.contains("{") || name.contains("}")) {
                    throw new IllegalArgumentException("bad parameter '" + part + "' in '" + template + "'");
                }
                if (!names.add(name)) {
                    throw new IllegalArgumentException("parameter {" + name + "} appears twice in '" + template + "'");
                }
                segments.add(name);
                kinds.add(PARAM);
            } else if (part.contains("{") || part.contains("}") || part.contains("*")) {
                throw new IllegalArgumentException("a segment is a literal, a whole {param} or a final '*'; '" + part
                        + "' in '" + template + "' is none");
            } else {
                segments.add(part);
                kinds.add(LITERAL);
            }
        }
        return new Pattern(
                template,
                List.copyOf(segments),
                kinds.stream().mapToInt(Integer::intValue).toArray());
    }

    /** The parameters if {@code pathSegments} match, else {@code null}. */
    @Nullable
    Map<String, String> match(String[] pathSegments) {
        boolean wildcard = kinds.length > 0 && kinds[kinds.length - 1] == WILDCARD;
        int fixed = wildcard ? kinds.length - 1 : kinds.length;
        if (wildcard ? pathSegments.length < fixed : pathSegments.length != fixed) {
            return null;
        }
        Map<String, String> params = null;
        for (int i = 0; i < fixed; i++) {
            String segment = pathSegments[i];
            if (kinds[i] == LITERAL) {
                if (!segments.get(i).equals(segment)) {
                    return null;
                }
            } else {
                if (segment.isEmpty()) {
                    return null;
                }
                if (params == null) {
                    params = new HashMap<>(4);
                }
                params.put(segments.get(i), decode(segment));
            }
        }
        if (params == null) {
            params = new HashMap<>(2);
        }
        if (wildcard) {
            StringBuilder rest = new StringBuilder();
            for (int i = fixed; i < pathSegments.length; i++) {
                if (i > fixed) {
                    rest.append('/');
                }
                rest.append(pathSegments[i]);
            }
            params.put("*", decode(rest.toString()));
        }
        return params;
    }

    /** Positive if this pattern is more specific than {@code other} (compared segment by segment). */
    int compareSpecificity(Pattern other) {
        int n = Math.min(kinds.length, other.kinds.length);
        for (int i = 0; i < n; i++) {
            if (kinds[i] != other.kinds[i]) {
                return Integer.compare(kinds[i], other.kinds[i]);
            }
        }
        return Integer.compare(kinds.length, other.kinds.length);
    }

    Pattern prefixed(String prefix) {
        return parse(prefix + (template.equals("/") ? "" : template));
    }

    private static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }
}
