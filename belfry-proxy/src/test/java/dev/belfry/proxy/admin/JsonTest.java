package dev.belfry.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JsonTest {
    private static String quote(String value) {
        var out = new StringBuilder();
        Json.quote(value, out);
        return out.toString();
    }

    @Test
    void escapesQuotesBackslashesAndControlCharacters() {
        assertThat(quote("a\"b\\c\nd\re\tf\bg\fh\u0000i\u001f"))
                .isEqualTo("\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0000i\\u001f\"");
    }

    @Test
    void escapesMarkupAndLineSeparatorsSoTheTextStaysInert() {
        assertThat(quote("</script>&\u2028\u2029")).isEqualTo("\"\\u003c/script\\u003e\\u0026\\u2028\\u2029\"");
    }

    @Test
    void keepsSurrogatePairsAndEscapesLoneSurrogates() {
        assertThat(quote("\uD83D\uDE00")).isEqualTo("\"\uD83D\uDE00\"");
        assertThat(quote("a\uD83Db\uDE00")).isEqualTo("\"a\\ud83db\\ude00\"");
        assertThat(quote("end\uD83D")).isEqualTo("\"end\\ud83d\"");
    }

    @Test
    void writesNestedDocumentsWithCommasOnlyBetweenValues() {
        String json = new Json()
                .beginObject()
                .key("a")
                .beginArray()
                .value(1)
                .value("two")
                .value(true)
                .nullValue()
                .beginObject()
                .endObject()
                .endArray()
                .key("b")
                .value((String) null)
                .endObject()
                .toString();
        assertThat(json).isEqualTo("{\"a\":[1,\"two\",true,null,{}],\"b\":null}");
        assertThat(JsonReader.parse(json)).isNotNull();
    }
}
