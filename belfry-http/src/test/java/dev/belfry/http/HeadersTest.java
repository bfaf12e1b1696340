package dev.belfry.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeadersTest {
    @Test
    void namesAreCaseInsensitiveAndStoredLowerCase() {
        Headers headers = Headers.of("Content-Type", "text/plain", "X-Trace", "a");

        assertThat(headers.get("content-type")).isEqualTo("text/plain");
        assertThat(headers.get("CONTENT-TYPE")).isEqualTo("text/plain");
        assertThat(headers.names()).containsExactly("content-type", "x-trace");
    }

    @Test
    void keepsEveryValueInTheOrderAdded() {
        Headers headers = Headers.builder()
                .add("set-cookie", "a=1")
                .add("via", "1.1 x")
                .add("Set-Cookie", "b=2")
                .build();

        assertThat(headers.getAll("set-cookie")).containsExactly("a=1", "b=2");
        assertThat(headers.size()).isEqualTo(3);
        List<String> seen = new ArrayList<>();
        headers.forEach((name, value) -> seen.add(name + "=" + value));
        assertThat(seen).containsExactly("set-cookie=a=1", "via=1.1 x", "set-cookie=b=2");
    }

    @Test
    void setReplacesEveryValueAndRemoveDropsThem() {
        Headers headers = Headers.of("a", "1", "b", "2", "a", "3");

        Headers changed = headers.toBuilder().set("A", "9").remove("b").build();

        assertThat(changed.getAll("a")).containsExactly("9");
        assertThat(changed.contains("b")).isFalse();
        assertThat(headers.getAll("a")).as("the original is unchanged").containsExactly("1", "3");
    }

    @Test
    void rejectsValuesThatWouldSplitAMessage() {
        assertThatThrownBy(() -> Headers.of("x", "a\r\nInjected: yes"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("header x");
        assertThatThrownBy(() -> Headers.of("x", "a\0b")).hasMessageContaining("NUL");
        assertThatThrownBy(() -> Headers.of("bad name", "v")).hasMessageContaining("token");
    }

    @Test
    void tokenCharactersAreExactlyRfc9110s() {
        // RFC 9110 section 5.6.2: tchar is ALPHA, DIGIT or one of these; nothing else, no non-ASCII.
        String punctuation = "!#$%&'*+-.^_`|~";
        int tokens = 0;
        for (int c = 0; c <= Character.MAX_VALUE; c++) {
            boolean expected = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || punctuation.indexOf(c) >= 0;
            assertThat(Headers.isTokenChar((char) c)).as("character %d", c).isEqualTo(expected);
            tokens += expected ? 1 : 0;
        }
        assertThat(tokens).isEqualTo(26 + 26 + 10 + punctuation.length());
        assertThatThrownBy(() -> Headers.of("x\u00e9", "v")).hasMessageContaining("token");
        assertThatThrownBy(() -> Headers.of("a:b", "v")).hasMessageContaining("token");
        assertThat(Headers.of("X-A!#$%&'*+-.^_`|~9", "v").names()).containsExactly("x-a!#$%&'*+-.^_`|~9");
    }

    @Test
    void equalWhenTheSameFieldsInTheSameOrder() {
        assertThat(Headers.of("A", "1", "b", "2")).isEqualTo(Headers.of("a", "1", "B", "2"));
        assertThat(Headers.of("a", "1", "b", "2")).isNotEqualTo(Headers.of("b", "2", "a", "1"));
    }

    @Test
    void aBuilderSharesHeadersAddedWholeAndCopiesThemOnlyWhenChanged() {
        Headers original = Headers.of("a", "1", "b", "2");

        Headers.Builder shared = Headers.builder().addAll(original);
        assertThat(shared.get("B")).isEqualTo("2");
        assertThat(shared.build()).isSameAs(original);
        assertThat(shared.remove("absent").build()).isSameAs(original);

        Headers changed = shared.add("c", "3").remove("a").build();
        assertThat(changed).isEqualTo(Headers.of("b", "2", "c", "3"));
        assertThat(original).isEqualTo(Headers.of("a", "1", "b", "2"));

        Headers twice = Headers.builder().addAll(original).addAll(original).build();
        assertThat(twice.getAll("a")).containsExactly("1", "1");
        assertThat(original.toBuilder().set("a", "9").build()).isEqualTo(Headers.of("b", "2", "a", "9"));
        assertThat(original.get("a")).isEqualTo("1");
        assertThat(Headers.builder().addAll(Headers.empty()).build()).isSameAs(Headers.empty());
    }

    @Test
    void aBuilderFilledToItsExpectedSizeBuildsWithoutLosingLaterChanges() {
        Headers.Builder builder = Headers.builder(2).add("Host", "a").add("Accept", "*/*");
        Headers built = builder.build();
        assertThat(built).isEqualTo(Headers.of("host", "a", "accept", "*/*"));

        // The built headers own the builder's array now: a change must not reach them.
        Headers changed = builder.add("x-more", "1").remove("host").build();
        assertThat(built).isEqualTo(Headers.of("host", "a", "accept", "*/*"));
        assertThat(changed).isEqualTo(Headers.of("accept", "*/*", "x-more", "1"));

        Headers.Builder growing = Headers.builder(0);
        for (int i = 0; i < 20; i++) {
            growing.add("x-" + i, Integer.toString(i));
        }
        Headers many = growing.remove("x-3").remove("x-19").build();
        assertThat(many.size()).isEqualTo(18);
        assertThat(many.get("x-18")).isEqualTo("18");
        assertThat(many.get("x-3")).isNull();
        assertThat(many.names()).startsWith("x-0", "x-1", "x-2", "x-4");
    }

    @Test
    void capitalizedNamesAreStoredLowerCaseWhetherCommonOrNot() {
        Headers headers = Headers.of("Content-Type", "a", "X-Custom-Thing", "b", "HOST", "c");
        assertThat(headers.names()).containsExactly("content-type", "x-custom-thing", "host");
        assertThat(headers.get("content-type")).isEqualTo("a");
        assertThat(headers.get("x-custom-thing")).isEqualTo("b");
        assertThat(headers.get("Host")).isEqualTo("c");
    }
}
