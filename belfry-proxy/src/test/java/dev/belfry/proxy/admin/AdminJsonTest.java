package dev.belfry.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdminJsonTest {
    private static String write(Object value) {
        return new String(AdminJson.write(value), StandardCharsets.UTF_8);
    }

    @Test
    void escapesQuotesBackslashesAndControlCharacters() {
        assertThat(write("a\"b\\c\nd\re\tf\bg\fh\u0000i\u001f"))
                .isEqualTo("\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0000i\\u001F\"");
    }

    @Test
    void escapesMarkupAndLineSeparatorsSoTheTextStaysInert() {
        assertThat(write("</script>&\u2028\u2029")).isEqualTo("\"\\u003C/script\\u003E\\u0026\\u2028\\u2029\"");
    }

    @Test
    void keepsSurrogatePairsAndEscapesLoneSurrogates() {
        assertThat(AdminJson.write("\uD83D\uDE00"))
                .as("one character outside the BMP: four UTF-8 bytes")
                .containsExactly('"', 0xF0, 0x9F, 0x98, 0x80, '"');
        assertThat(write("a\uD83Db\uDE00")).isEqualToIgnoringCase("\"a\\ud83db\\ude00\"");
        assertThat(write("end\uD83D")).isEqualToIgnoringCase("\"end\\ud83d\"");
    }

    @Test
    void theHealthDocumentKeepsItsSnakeCaseNamesInOrder() {
        FakeStatus status = FakeStatus.healthy();
        status.lastReload = ReloadResult.rejected(FakeStatus.T0, List.of("belfry.toml:1:1: bad"));
        status.recentErrors = List.of(new RecentError(FakeStatus.T0, "listener web", "refused"));
        String json = write(HealthDocument.of(status));
        // Scripts that read /health with a pattern depend on this exact text.
        assertThat(json)
                .isEqualTo("{\"ready\":true,\"not_ready_reasons\":[],\"config_loaded\":true,\"draining\":false,"
                        + "\"last_reload\":{\"ok\":false,\"at\":\"2026-11-21T10:15:30Z\","
                        + "\"problems\":[\"belfry.toml:1:1: bad\"]},"
                        + "\"listeners\":[{\"name\":\"web\",\"address\":\"0.0.0.0:8080\",\"cluster\":\"app\","
                        + "\"active_connections\":3,\"total_connections\":7,\"rejected_connections\":1}],"
                        + "\"clusters\":[{\"name\":\"app\",\"healthy_backends\":2,\"backends\":["
                        + "{\"address\":\"10.0.0.1:80\",\"state\":\"healthy\",\"healthy\":true,"
                        + "\"active_connections\":2,\"connect_failures\":0,\"last_error\":null,"
                        + "\"bytes_client_to_backend\":100,\"bytes_backend_to_client\":2000},"
                        + "{\"address\":\"10.0.0.2:80\",\"state\":\"healthy\",\"healthy\":true,"
                        + "\"active_connections\":1,\"connect_failures\":4,\"last_error\":\"connection refused\","
                        + "\"bytes_client_to_backend\":50,\"bytes_backend_to_client\":900}]}],"
                        + "\"recent_errors\":[{\"at\":\"2026-11-21T10:15:30Z\",\"source\":\"listener web\","
                        + "\"message\":\"refused\"}]}");
        assertThat(JsonReader.parse(json)).isNotNull();
    }
}
