package dev.belfry.proxy.config;

import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.tomlj.TomlArray;
import org.tomlj.TomlKeyValue;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * One TOML table being read into a record: typed getters that record a problem (at the value's
 * position) instead of throwing, and return a default so reading can go on and find more problems.
 *
 * <p>The keys a table accepts are the keys its reader asks for: every getter (and {@link #missing},
 * {@link #accept}) declares its key, and {@link #reportUnknownKeys} reports, for every table opened
 * from the same root, each key that no reader asked for. There is no separate list of keys to keep
 * in step with the reading code.
 */
final class Section {
    private final Problems problems;
    private final TomlTable table;
    private final String path;
    private final TomlPosition position;
    /** Every section opened from the same root, this one included, in the order opened. */
    private final List<Section> opened;

    private final Set<String> known = new LinkedHashSet<>();
    private final Map<String, String> hints = new HashMap<>();

    /** A root section (the whole file). */
    Section(Problems problems, TomlTable table, String path, TomlPosition position) {
        this(problems, table, path, position, new ArrayList<>());
    }

    private Section(Problems problems, TomlTable table, String path, TomlPosition position, List<Section> opened) {
        this.problems = problems;
        this.table = table;
        this.path = path;
        this.position = position;
        this.opened = opened;
        opened.add(this);
    }

    /** Where the table starts: its header, or line 1 for the top level. */
    TomlPosition position() {
        return position;
    }

    /** The table's name in messages: {@code listeners[0]}, {@code clusters[1].health_check}. */
    String path() {
        return path;
    }

    Problems problems() {
        return problems;
    }

    boolean has(String key) {
        return table.contains(List.of(key));
    }

    /** Whether {@code key} holds an empty array (as in {@code backends = []}). */
    boolean isEmptyArray(String key) {
        return table.get(List.of(key)) instanceof TomlArray array && array.isEmpty();
    }

    /** Where {@code key} is written. */
    TomlPosition keyPosition(String key) {
        TomlPosition at = table.inputPositionOf(List.of(key));
        return at == null ? position : at;
    }

    /** Where {@code key}'s value is written (the key itself for tables). */
    TomlPosition valuePosition(String key) {
        TomlKeyValue entry = table.entry(List.of(key));
        if (entry != null && entry.value() != null) {
            return entry.value().position();
        }
        return keyPosition(key);
    }

    /**
     * Declares {@code key} as one this table accepts without reading it here (a key whose presence
     * is reported as a problem of its own, say).
     */
    void accept(String key) {
        known.add(key);
    }

    /** What to say, instead of "did you mean", when {@code key} is found and not accepted. */
    void hint(String key, String text) {
        hints.put(key, text);
    }

    /**
     * Reports, in every table opened from this root, each key that no reader asked for, suggesting
     * the closest accepted one. Call once, after reading.
     */
    void reportUnknownKeys() {
        for (Section section : opened) {
            section.reportOwnUnknownKeys();
        }
    }

    private void reportOwnUnknownKeys() {
        for (String key : table.keySet()) {
            if (known.contains(key)) {
                continue;
            }
            String where = path.isEmpty() ? "at the top level" : "in " + path;
            String message = "unknown key '" + key + "' " + where;
            String hint = hints.get(key);
            String closest = ConfigValues.closest(key, known);
            if (hint != null) {
                message += "; " + hint;
            } else if (closest != null) {
                message += "; did you mean '" + closest + "'?";
            } else if (!known.isEmpty()) {
                message += "; expected one of " + String.join(", ", sorted(known));
            }
            problems.add(keyPosition(key), message);
        }
    }

    /**
     * The keys accepted so far, by table path with array indices left out ({@code
     * clusters.health_check}), over every table opened from this root; the top level is {@code ""}.
     */
    Map<String, Set<String>> acceptedKeys() {
        Map<String, Set<String>> keys = new TreeMap<>();
        for (Section section : opened) {
            keys.computeIfAbsent(section.path.replaceAll("\\[[0-9]+\\]", ""), k -> new TreeSet<>())
                    .addAll(section.known);
        }
        return keys;
    }

    private static List<String> sorted(Set<String> keys) {
        List<String> sorted = new ArrayList<>(keys);
        sorted.sort(null);
        return sorted;
    }

    void problem(TomlPosition at, String message) {
        problems.add(at, message);
    }

    void missing(String key, String what) {
        known.add(key);
        String where = path.isEmpty() ? "at the top level" : "in " + path;
        problems.add(position, "missing key '" + key + "' " + where + " (" + what + ")");
    }

    /** The string at {@code key}, or {@code null} if absent or not a string (reported). */
    @Nullable
    String string(String key, String expected) {
        known.add(key);
        Object value = table.get(List.of(key));
        if (value == null) {
            return null;
        }
        if (value instanceof String string) {
            return string;
        }
        wrongType(key, expected, value);
        return null;
    }

    /** The string at {@code key}; absent is reported as missing. */
    @Nullable
    String requiredString(String key, String expected, String what) {
        known.add(key);
        if (!has(key)) {
            missing(key, what);
            return null;
        }
        return string(key, expected);
    }

    /** The integer at {@code key}, within {@code [min, max]}; {@code fallback} if absent or bad. */
    long integer(String key, long fallback, long min, long max) {
        known.add(key);
        Object value = table.get(List.of(key));
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Long number)) {
            wrongType(key, "an integer", value);
            return fallback;
        }
        if (number < min || number > max) {
            String range = max == Integer.MAX_VALUE ? "at least " + min : "between " + min + " and " + max;
            problems.add(valuePosition(key), key + " must be " + range + ", was " + number);
            return fallback;
        }
        return number;
    }

    int intValue(String key, int fallback, int min, int max) {
        return (int) integer(key, fallback, min, max);
    }

    /** The boolean at {@code key}; {@code fallback} if absent or bad. */
    boolean bool(String key, boolean fallback) {
        known.add(key);
        Object value = table.get(List.of(key));
        if (value == null) {
            return fallback;
        }
        if (value instanceof Boolean flag) {
            return flag;
        }
        wrongType(key, "true or false", value);
        return fallback;
    }

    /**
     * The duration at {@code key} (see {@link ConfigValues#duration}); {@code fallback} if absent
     * or bad. Zero is accepted only if {@code zeroAllowed}.
     */
    Duration duration(String key, Duration fallback, boolean zeroAllowed) {
        known.add(key);
        Object value = table.get(List.of(key));
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof String text)) {
            wrongType(key, ConfigValues.DURATION_FORMS, value);
            return fallback;
        }
        Duration duration;
        try {
            duration = ConfigValues.duration(text);
        } catch (IllegalArgumentException e) {
            problems.add(valuePosition(key), key + " must be " + e.getMessage());
            return fallback;
        }
        if (duration.isZero() && !zeroAllowed) {
            problems.add(valuePosition(key), key + " must be longer than zero, was " + ConfigValues.quote(text));
            return fallback;
        }
        return duration;
    }

    /**
     * The string at {@code key} parsed by {@code parser} (which throws {@link
     * IllegalArgumentException} completing "KEY must be ..."); {@code null} if absent or bad.
     */
    <T> @Nullable T parsed(String key, String expected, Function<String, T> parser) {
        String text = string(key, expected);
        if (text == null) {
            return null;
        }
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException e) {
            problems.add(valuePosition(key), key + " must be " + e.getMessage());
            return null;
        }
    }

    /**
     * The array of strings at {@code key}, each parsed by {@code parser} (as in {@link #parsed});
     * empty if absent. Bad elements are reported at their own positions and left out.
     */
    <T> List<T> parsedList(String key, String expected, Function<String, T> parser) {
        known.add(key);
        Object value = table.get(List.of(key));
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof TomlArray array)) {
            wrongType(key, "an array of " + expected, value);
            return List.of();
        }
        List<T> parsed = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            Object element = array.get(i);
            TomlPosition at = array.inputPositionOf(i);
            TomlPosition where = at == null ? valuePosition(key) : at;
            if (!(element instanceof String text)) {
                problems.add(
                        where,
                        key + " must be an array of " + expected + ", but element " + i + " is " + typeName(element));
                continue;
            }
            try {
                parsed.add(parser.apply(text));
            } catch (IllegalArgumentException e) {
                problems.add(where, key + "[" + i + "] must be " + e.getMessage());
            }
        }
        return parsed;
    }

    /** The choice named at {@code key} among {@code choices}; {@code fallback} if absent or bad. */
    <E> E choice(String key, E fallback, Map<String, E> choices) {
        String expected = "one of " + String.join(", ", quoted(choices.keySet()));
        String name = string(key, expected);
        if (name == null) {
            return fallback;
        }
        E choice = choices.get(name);
        if (choice != null) {
            return choice;
        }
        String closest = ConfigValues.closest(name, choices.keySet());
        problems.add(
                valuePosition(key),
                key + " must be " + expected + ", was " + ConfigValues.quote(name)
                        + (closest == null ? "" : "; did you mean \"" + closest + "\"?"));
        return fallback;
    }

    private static List<String> quoted(Set<String> names) {
        List<String> quoted = new ArrayList<>();
        for (String name : names) {
            quoted.add(ConfigValues.quote(name));
        }
        return quoted;
    }

    /** The sub-table at {@code key}, or {@code null} if absent or not a table (reported). */
    @Nullable
    Section table(String key) {
        known.add(key);
        Object value = table.get(List.of(key));
        if (value == null) {
            return null;
        }
        String child = path.isEmpty() ? key : path + "." + key;
        if (value instanceof TomlTable sub) {
            return new Section(problems, sub, child, keyPosition(key), opened);
        }
        wrongType(key, "a table ([" + child + "])", value);
        return null;
    }

    /** The tables in the array at {@code key}; empty if absent; non-tables are reported. */
    List<Section> tables(String key) {
        known.add(key);
        Object value = table.get(List.of(key));
        if (value == null) {
            return List.of();
        }
        String child = path.isEmpty() ? key : path + "." + key;
        String expected = "an array of tables ([[" + child.replaceAll("\\[[0-9]+\\]", "") + "]])";
        if (!(value instanceof TomlArray array)) {
            wrongType(key, expected, value);
            return List.of();
        }
        List<Section> sections = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            Object element = array.get(i);
            TomlPosition at = array.inputPositionOf(i);
            if (element instanceof TomlTable sub) {
                sections.add(new Section(problems, sub, child + "[" + i + "]", at == null ? position : at, opened));
            } else {
                problems.add(
                        at == null ? valuePosition(key) : at,
                        key + " must be " + expected + ", but element " + i + " is " + typeName(element));
            }
        }
        return sections;
    }

    private void wrongType(String key, String expected, Object value) {
        problems.add(valuePosition(key), key + " must be " + expected + ", was " + typeName(value));
    }

    /** How a TOML value's type is named in messages: "a string", "an integer", ... */
    static String typeName(Object value) {
        if (value instanceof String) {
            return "a string";
        } else if (value instanceof Long) {
            return "an integer";
        } else if (value instanceof Double) {
            return "a float";
        } else if (value instanceof Boolean) {
            return "a boolean";
        } else if (value instanceof TomlArray) {
            return "an array";
        } else if (value instanceof TomlTable) {
            return "a table";
        } else if (value instanceof OffsetDateTime || value instanceof LocalDateTime) {
            return "a date-time";
        } else if (value instanceof LocalDate) {
            return "a date";
        } else if (value instanceof LocalTime) {
            return "a time";
        }
        return "a " + value.getClass().getSimpleName();
    }
}
