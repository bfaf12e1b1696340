package dev.belfry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MainTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void demoAccountsForEveryRequestAndRespectsTheLimit() {
        assertThat(run("core-demo", "--requests", "120", "--rate", "2000")).isZero();
        String text = out.toString();
        int total = 0;
        for (String outcome : new String[] {"answered", "timed out", "shed", "failed"}) {
            Matcher matcher = Pattern.compile(outcome + "\\s+(\\d+)").matcher(text);
            assertThat(matcher.find()).as(outcome + " in:%n%s", text).isTrue();
            total += Integer.parseInt(matcher.group(1));
        }
        assertThat(total).isEqualTo(120);
        Matcher peak = Pattern.compile("peak in flight at the backend: (\\d+)").matcher(text);
        assertThat(peak.find()).isTrue();
        assertThat(Integer.parseInt(peak.group(1))).isBetween(1, CoreDemo.CONCURRENCY);
    }

    @Test
    void badArgumentsExitWithUsageAndTheProblem() {
        assertThat(run("core-demo", "--requests", "0")).isEqualTo(2);
        assertThat(err.toString())
                .contains("--requests must be at least 1, was 0")
                .contains("Usage: belfry core-demo");
    }

    @Test
    void aBadTransportSettingIsOneLineAndExitStatusOne() {
        String before = System.getProperty("belfry.transport");
        System.setProperty("belfry.transport", "bogus");
        try {
            assertThat(run("demo", "--duration", "1")).isEqualTo(1);
        } finally {
            if (before == null) {
                System.clearProperty("belfry.transport");
            } else {
                System.setProperty("belfry.transport", before);
            }
        }
        assertThat(err.toString())
                .startsWith("belfry: belfry.transport must be one of auto, io_uring, epoll, nio, was 'bogus'")
                .doesNotContain("\tat ");
    }

    @Test
    void theDemosDurationTakesTheConfigSyntax() {
        assertThat(run("demo", "--duration", "1500ms", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"))
                .isZero();
        assertThat(out.toString()).contains("demo: 1500ms passed; draining");
    }

    @Test
    void aBadDurationNamesTheFormsAndExitsWithAUsageError() {
        assertThat(run("demo", "--duration", "20 sec")).isEqualTo(2);
        assertThat(err.toString())
                .contains("--duration")
                .contains("a duration like \"250ms\", \"5s\", \"1.5s\", \"1m\" or \"1h\", was \"20 sec\"");
    }

    @Test
    void theDemosSelfTestSendsTheRequestsItIsAskedForAndShowsSix() {
        // As bin/belfry's ahead-of-time training runs it: ephemeral ports, a short run.
        assertThat(run(
                        "demo",
                        "--requests",
                        "40",
                        "--duration",
                        "1",
                        "--listen",
                        "127.0.0.1:0",
                        "--admin",
                        "127.0.0.1:0"))
                .isZero();
        String text = out.toString();
        assertThat(text).contains("Self-test, 40 requests through the proxy:");
        assertThat(Pattern.compile("(?m)^  \\d+: 200 OK \\| hello from backend-")
                        .matcher(text)
                        .results()
                        .count())
                .isEqualTo(6);
        assertThat(text).contains("  ... 40 of 40 answered 200 OK").contains("demo: drained and stopped");
    }

    @Test
    void theDemoRefusesFewerThanOneRequest() {
        assertThat(run("demo", "--requests", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--requests must be at least 1, was 0");
    }

    @Test
    void versionNamesBelfryAndTheJava() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString())
                .startsWith("belfry ")
                .contains("Java " + Runtime.version().feature());
    }

    @Test
    void unknownCommandsAreRefused() {
        assertThat(run("frobnicate")).isEqualTo(2);
        assertThat(err.toString()).contains("frobnicate");
    }
}
