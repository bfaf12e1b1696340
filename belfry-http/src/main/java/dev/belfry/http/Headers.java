package dev.belfry.http;

import dev.belfry.Checks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * An immutable, ordered, multi-valued set of HTTP header fields with case-insensitive names.
 *
 * <p>Names are stored lower-case (the form HTTP/2 requires on the wire); values are kept as given, in
 * the order they were added, so repeated fields ({@code set-cookie}, {@code via}) keep their order.
 * Names must be tokens and values must not hold CR, LF or NUL: a builder rejects them with a message
 * naming the field, so a header can never split a message. Thread-safe (immutable).
 */
public final class Headers implements Iterable<Map.Entry<String, String>> {
    private static final Headers EMPTY = new Headers(new String[0]);

    // name0, value0, name1, value1, ...: compact, ordered, and cheap to scan for the few fields a
    // message carries.
    private final String[] fields;

    private Headers(String[] fields) {
        this.fields = fields;
    }

    /** No header fields. */
    public static Headers empty() {
        return EMPTY;
    }

    /** Headers from alternating names and values: {@code Headers.of("content-type", "text/plain")}. */
    public static Headers of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values must come in pairs, got " + namesAndValues.length);
        }
        Builder builder = builder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            builder.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return builder.build();
    }

    /** A builder with no fields. */
    public static Builder builder() {
        return new Builder(4);
    }

    /**
     * A builder with no fields and room for {@code expectedFields}: a builder filled to exactly that
     * builds without copying.
     */
    public static Builder builder(int expectedFields) {
        if (expectedFields < 0) {
            throw new IllegalArgumentException("expectedFields must not be negative, was " + expectedFields);
        }
        return new Builder(expectedFields);
    }

    /** A builder holding these fields, to add or replace some. */
    public Builder toBuilder() {
        Builder builder = new Builder(fields.length / 2);
        builder.addAll(this);
        return builder;
    }

    /** The first value of {@code name}, or {@code null} if absent. */
    public @Nullable String get(String name) {
        String lower = HttpMethod.lower(name);
        for (int i = 0; i < fields.length; i += 2) {
            if (fields[i].equals(lower)) {
                return fields[i + 1];
            }
        }
        return null;
    }

    /** Every value of {@code name}, in order; empty if absent. */
    public List<String> getAll(String name) {
        String lower = HttpMethod.lower(name);
        List<String> values = new ArrayList<>(2);
        for (int i = 0; i < fields.length; i += 2) {
            if (fields[i].equals(lower)) {
                values.add(fields[i + 1]);
            }
        }
        return Collections.unmodifiableList(values);
    }

    /** Whether {@code name} is present. */
    public boolean contains(String name) {
        return get(name) != null;
    }

    /** The distinct names, lower-case, in first-seen order. */
    public Set<String> names() {
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < fields.length; i += 2) {
            names.add(fields[i]);
        }
        return Collections.unmodifiableSet(names);
    }

    /** The number of fields (a name with two values counts twice). */
    public int size() {
        return fields.length / 2;
    }

    /**
     * The name of field {@code index} (from 0, in order; lower case): with {@link #value(int)}, a
     * walk over the fields that allocates nothing.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < size()}
     */
    public String name(int index) {
        return fields[2 * Objects.checkIndex(index, size())];
    }

    /**
     * The value of field {@code index} (from 0, in order).
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < size()}
     */
    public String value(int index) {
        return fields[2 * Objects.checkIndex(index, size()) + 1];
    }

    /** Whether there are no fields. */
    public boolean isEmpty() {
        return fields.length == 0;
    }

    /** Calls {@code action} with each field's name and value, in order. */
    public void forEach(BiConsumer<String, String> action) {
        for (int i = 0; i < fields.length; i += 2) {
            action.accept(fields[i], fields[i + 1]);
        }
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < fields.length;
            }

            @Override
            public Map.Entry<String, String> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                var entry = Map.entry(fields[next], fields[next + 1]);
                next += 2;
                return entry;
            }
        };
    }

    @Override
    public boolean equals(@Nullable Object other) {
        return other instanceof Headers that && Arrays.equals(fields, that.fields);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(fields);
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < fields.length; i += 2) {
            if (i > 0) {
                out.append(", ");
            }
            out.append(fields[i]).append(": ").append(fields[i + 1]);
        }
        return out.append(']').toString();
    }

    /** The token characters (RFC 9110 section 5.6.2) below 64, one bit each. */
    private static final long TOKEN_LOW = tokenBits(0);
    /** The token characters from 64 to 127, one bit each. */
    private static final long TOKEN_HIGH = tokenBits(64);

    private static long tokenBits(int from) {
        String tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        long bits = 0;
        for (int i = 0; i < tchar.length(); i++) {
            int c = tchar.charAt(i) - from;
            if (c >= 0 && c < 64) {
                bits |= 1L << c;
            }
        }
        return bits;
    }

    /** Whether {@code c} may appear in a token (a method or a field name): two bit tests, no search. */
    static boolean isTokenChar(char c) {
        return c < 64 ? (TOKEN_LOW & (1L << c)) != 0 : c < 128 && (TOKEN_HIGH & (1L << (c - 64))) != 0;
    }

    static String checkName(@Nullable String name) {
        Checks.notNull(name, "header name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("header name must not be empty");
        }
        boolean upper = false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!isTokenChar(c)) {
                throw new IllegalArgumentException("header name must be a token, was '" + name + "'");
            }
            upper |= c >= 'A' && c <= 'Z';
        }
        if (!upper) {
            return name;
        }
        for (String common : COMMON_NAMES) {
            if (common.length() == name.length() && common.equalsIgnoreCase(name)) {
                return common; // "Host", "Content-Type": no new string for the names most sent
            }
        }
        return HttpMethod.lower(name);
    }

    /** Names HTTP/1.1 clients and servers send capitalized on nearly every message. */
    private static final String[] COMMON_NAMES = {
        "host",
        "accept",
        "user-agent",
        "content-type",
        "content-length",
        "connection",
        "accept-encoding",
        "accept-language",
        "cookie",
        "authorization",
        "cache-control",
        "referer",
        "origin",
        "date",
        "server",
        "transfer-encoding",
        "x-forwarded-for",
        "x-request-id"
    };

    static String checkValue(String name, @Nullable String value) {
        if (value == null) {
            throw new NullPointerException("value of header " + name + " must not be null");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == 0) {
                throw new IllegalArgumentException("value of header " + name + " must not contain CR, LF or NUL");
            }
        }
        return value;
    }

    /**
     * Collects fields; not thread-safe. Headers added whole to an empty builder are shared, not
     * copied, until the builder is changed: building a message from headers built elsewhere costs
     * no copy.
     */
    public static final class Builder {
        private String @Nullable [] fields; // name0, value0, ...; null until the first change
        private int size;
        private @Nullable Headers shared;
        private final int expectedFields;

        private Builder(int expectedFields) {
            this.expectedFields = expectedFields;
        }

        /** The fields, copied out of {@code shared} first, with room for {@code more} strings. */
        private String[] fields(int more) {
            String[] array = fields;
            if (array == null) {
                Headers base = shared;
                shared = null;
                int baseLength = base == null ? 0 : base.fields.length;
                array = new String[Math.max(baseLength + more, 2 * Math.max(expectedFields, 1))];
                if (base != null) {
                    System.arraycopy(base.fields, 0, array, 0, baseLength);
                }
                size = baseLength;
                fields = array;
            } else if (size + more > array.length) {
                array = Arrays.copyOf(array, Math.max(size + more, 2 * array.length));
                fields = array;
            }
            return array;
        }

        /** Adds a field after any with the same name. */
        public Builder add(String name, String value) {
            String lower = checkName(name);
            String checked = checkValue(lower, value);
            String[] array = fields(2);
            array[size++] = lower;
            array[size++] = checked;
            return this;
        }

        /** Replaces every field named {@code name} with this one value (added at the end). */
        public Builder set(String name, String value) {
            remove(name);
            return add(name, value);
        }

        /** Removes every field named {@code name}. */
        public Builder remove(String name) {
            String lower = HttpMethod.lower(name);
            if (fields == null && (shared == null || !shared.contains(lower))) {
                return this;
            }
            String[] array = fields(0);
            int kept = 0;
            for (int i = 0; i < size; i += 2) {
                if (!array[i].equals(lower)) {
                    array[kept++] = array[i];
                    array[kept++] = array[i + 1];
                }
            }
            Arrays.fill(array, kept, size, null);
            size = kept;
            return this;
        }

        /** Adds every field of {@code headers}. */
        public Builder addAll(Headers headers) {
            if (headers.fields.length == 0) {
                return this;
            }
            if (fields == null && shared == null) {
                shared = headers; // immutable: shared until this builder changes
                return this;
            }
            String[] array = fields(headers.fields.length);
            System.arraycopy(headers.fields, 0, array, size, headers.fields.length);
            size += headers.fields.length;
            return this;
        }

        /** The first value of {@code name} added so far, or {@code null}. */
        public @Nullable String get(String name) {
            String[] array = fields;
            if (array == null) {
                return shared == null ? null : shared.get(name);
            }
            String lower = HttpMethod.lower(name);
            for (int i = 0; i < size; i += 2) {
                if (array[i].equals(lower)) {
                    return array[i + 1];
                }
            }
            return null;
        }

        /** Immutable headers holding the fields added so far. */
        public Headers build() {
            String[] array = fields;
            if (array == null) {
                return shared == null ? EMPTY : shared;
            }
            if (size == 0) {
                return EMPTY;
            }
            if (size < array.length) {
                return new Headers(Arrays.copyOf(array, size));
            }
            // Exactly full: the array becomes the headers', and a later change copies it first.
            Headers built = new Headers(array);
            fields = null;
            shared = built;
            return built;
        }
    }
}
