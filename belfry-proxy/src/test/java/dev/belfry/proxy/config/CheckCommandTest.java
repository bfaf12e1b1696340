package dev.belfry.proxy.config;

import static dev.belfry.proxy.config.ConfigLoaderTest.resource;
import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.proxy.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code belfry check}: its output and exit codes, through the real command line. */
class CheckCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void aValidFileExitsZeroWithASummary() {
        String file = resource("full.toml").toString();

        assertThat(run("check", "--config", file)).isZero();
        assertThat(err.toString()).isEmpty();
        assertThat(out.toString().lines())
                .containsExactly(
                        file + ": ok: 2 listeners, 2 clusters, 3 static backends",
                        "  listener web: 0.0.0.0:8080 -> cluster app",
                        "  listener internal: 127.0.0.1:8081 -> cluster svc",
                        "  cluster app: weighted-round-robin over 10.0.0.1:9001 (weight 3), [2001:db8::7]:9001,"
                                + " app-3.internal:9001 (weight 10000)",
                        "  cluster svc: consistent-hash over DNS app.default.svc.cluster.local port 8080",
                        "  admin: [::1]:9902");
    }

    @Test
    void theShortOptionAndTheSeedsFormatWork() {
        String file = resource("seed.toml").toString();

        assertThat(run("check", "-c", file)).isZero();
        assertThat(out.toString())
                .startsWith(file + ": ok: 1 listener, 1 cluster, 3 static backends\n")
                .contains("  listener default: 127.0.0.1:8080 -> cluster default\n")
                .contains("  cluster default: weighted-random over 127.0.0.1:8081, 127.0.0.1:8082 (weight 2),"
                        + " backend.local:8083 (weight 3)\n");
    }

    @Test
    void aClusterNoListenerUsesIsPointedOutButAccepted(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("spare.toml");
        java.nio.file.Files.writeString(file, """
                [[listeners]]
                name = "web"
                listen = "0.0.0.0:8080"
                cluster = "app"
                [[clusters]]
                name = "app"
                [[clusters.backends]]
                address = "127.0.0.1:9001"
                [[clusters]]
                name = "spare"
                [[clusters.backends]]
                address = "127.0.0.1:9002"
                """);

        assertThat(run("check", "-c", file.toString())).isZero();
        assertThat(out.toString())
                .contains("  cluster spare: p2c-peak-ewma over 127.0.0.1:9002 (no listener uses it)\n");
    }

    @Test
    void anInvalidFileExitsOneWithEveryProblemOnStderr() {
        String file = resource("broken.toml").toString();

        assertThat(run("check", "--config", file)).isEqualTo(1);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString().lines())
                .hasSize(5)
                .allSatisfy(line -> assertThat(line).matches(java.util.regex.Pattern.quote(file) + ":\\d+:\\d+: .+"))
                .first()
                .isEqualTo(file + ":3:10: listen must be a string like \"0.0.0.0:8080\", was an integer");
    }

    @Test
    void aSyntaxErrorExitsOneWithItsPosition() {
        String file = resource("syntax.toml").toString();

        assertThat(run("check", "-c", file)).isEqualTo(1);
        assertThat(err.toString()).isEqualTo(file + ":1:18: Unexpected end of line, expected \" or a character\n");
    }

    @Test
    void aMissingFileExitsOneNamingIt(@TempDir Path dir) {
        Path missing = dir.resolve("missing.toml");

        assertThat(run("check", "-c", missing.toString())).isEqualTo(1);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).isEqualTo(missing + ": cannot read config file: no such file\n");
    }

    @Test
    void withoutAConfigOptionTheUsageIsShownAndTheExitIsTwo() {
        assertThat(run("check")).isEqualTo(2);
        assertThat(err.toString())
                .contains("Missing required option: '--config=FILE'")
                .contains("Usage: belfry check");
    }
}
