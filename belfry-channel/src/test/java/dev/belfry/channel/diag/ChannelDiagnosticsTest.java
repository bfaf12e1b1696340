package dev.belfry.channel.diag;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.belfry.channel.AddressSource;
import dev.belfry.channel.ChannelRegistry;
import dev.belfry.channel.FakeConnector;
import dev.belfry.channel.FakeConnector.FakeMember;
import dev.belfry.channel.PoolLog;
import dev.belfry.channel.WarmPool;
import dev.belfry.http.Json;
import dev.belfry.http.router.Router;
import dev.belfry.http.server.HttpServer;
import dev.belfry.test.ManualClock;
import dev.belfry.test.NoNettyLeaks;
import dev.belfry.test.VerifyAfterEach;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The page on a real {@link HttpServer} on loopback, read with the JDK's HTTP client: pools are
 * driven by hand on a {@link ManualClock}, wall-clock times come from a fixed clock, and an address
 * and an error carry markup that must come out escaped.
 */
@ExtendWith({VerifyAfterEach.class, NoNettyLeaks.class})
@Timeout(60)
class ChannelDiagnosticsTest {
    private static final String EVIL = "<img src=x onerror=alert(1)>:80";
    private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

    final ManualClock clock = new ManualClock();
    private final FakeConnector connector = new FakeConnector();
    private final ChannelRegistry channels = new ChannelRegistry();
    private final List<WarmPool<String, String, String>> pools = new ArrayList<>();
    private final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private HttpServer server;

    @BeforeEach
    void startServer() {
        Router admin = Router.builder()
                .get(ChannelDiagnostics.PATH, ChannelDiagnostics.of(channels, Clock.fixed(NOW, ZoneOffset.UTC)))
                .build();
        server = HttpServer.builder(admin).bind("127.0.0.1", 0).ioThreads(1).start();
    }

    @AfterEach
    void closeEverything() {
        server.close();
        pools.forEach(WarmPool::close);
        assertThat(connector.open()).isEmpty();
    }

    private WarmPool<String, String, String> start(String name, int want, String... addresses) {
        WarmPool<String, String, String> pool = WarmPool.builder(name, AddressSource.of(List.of(addresses)), connector)
                .want(want)
                .healthyMin(1)
                .warnings(null, null)
                .registry(channels)
                .clock(clock)
                .random(new SplittableRandom(11))
                .log(new PoolLog() {
                    @Override
                    public void warn(String message) {}

                    @Override
                    public void info(String message) {}
                })
                .build();
        pools.add(pool);
        return pool;
    }

    private HttpResponse<String> get(String target, String accept) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + target))
                .timeout(Duration.ofSeconds(10));
        if (accept != null) {
            request.header("Accept", accept);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** "users" fails twice on the hostile address, 1.5 s apart; "orders" is healthy on two addresses. */
    private void twoChannels() {
        start("users", 1, EVIL);
        connector.attempt(0).fail("refused & <b>reset</b>");
        Duration backoff = clock.nextDelay();
        clock.advance(backoff);
        connector.attempt(1).fail("refused & <b>reset</b>");
        clock.advance(Duration.ofMillis(250));

        start("orders", 2, "10.0.0.1:80", "10.0.0.2:80");
        FakeMember first = connector.attempt(2).connect();
        FakeMember second = connector.attempt(3).connect();
        first.pass();
        second.pass();
    }

    @Test
    void jsonListsEveryChannelWithItsAddressesErrorsAndMembers() throws Exception {
        twoChannels();

        HttpResponse<String> response = get("/debug/channels?format=json", null);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(response.headers().firstValue("cache-control")).hasValue("no-store");
        JsonNode page = Json.mapper().readTree(response.body());
        assertThat(page.get("time").asText()).isEqualTo(NOW.toString());
        assertThat(page.get("channels")).hasSize(2);

        JsonNode users = page.get("channels").get(0);
        assertThat(users.get("name").asText()).isEqualTo("users");
        assertThat(users.get("state").asText()).isEqualTo("unhealthy");
        assertThat(users.get("lastError").asText())
                .isEqualTo("connection to " + EVIL + " failed: refused & <b>reset</b> (x2)");
        JsonNode address = users.get("addresses").get(0);
        assertThat(address.get("address").asText()).isEqualTo(EVIL);
        assertThat(address.get("resolved").asBoolean()).isTrue();
        assertThat(address.get("stale").asBoolean()).isFalse();
        assertThat(address.get("members").asInt()).isZero();
        assertThat(address.get("nextAttemptInMillis").asLong()).isPositive();
        JsonNode error = address.get("errors").get(0);
        assertThat(address.get("errors")).hasSize(1);
        assertThat(error.get("message").asText())
                .isEqualTo("connection to " + EVIL + " failed: refused & <b>reset</b>");
        assertThat(error.get("count").asInt()).isEqualTo(2);
        assertThat(error.get("lastAgoMillis").asLong()).isEqualTo(250);
        assertThat(error.get("last").asText()).isEqualTo(NOW.minusMillis(250).toString());
        assertThat(error.get("first").asText())
                .isEqualTo(NOW.minusNanos(clock.elapsedNanos()).toString());

        JsonNode orders = page.get("channels").get(1);
        assertThat(orders.get("state").asText()).isEqualTo("healthy");
        assertThat(orders.get("healthy").asInt()).isEqualTo(2);
        assertThat(orders.get("serving").asInt()).isEqualTo(2);
        assertThat(orders.get("lastError").isNull()).isTrue();
        assertThat(orders.get("memberList")).hasSize(2);
        assertThat(orders.get("memberList").get(0).get("address").asText()).isEqualTo("10.0.0.1:80");
        assertThat(orders.get("memberList").get(0).get("state").asText()).isEqualTo("healthy");
        assertThat(orders.get("memberList").get(0).get("serving").asBoolean()).isTrue();
    }

    @Test
    void acceptingJsonGetsJsonAndBrowsersGetHtml() throws Exception {
        twoChannels();

        assertThat(get("/debug/channels", "application/json").headers().firstValue("content-type"))
                .hasValue("application/json");
        HttpResponse<String> browser = get("/debug/channels", "text/html,application/xhtml+xml,application/json;q=0.9");
        assertThat(browser.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(get("/debug/channels", null).headers().firstValue("content-type"))
                .hasValue("text/html; charset=utf-8");
        assertThat(get("/debug/channels?format=html", "application/json")
                        .headers()
                        .firstValue("content-type"))
                .hasValue("text/html; charset=utf-8");
        HttpResponse<String> bad = get("/debug/channels?format=xml", null);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).isEqualTo("format must be json or html, was 'xml'\n");
    }

    @Test
    void htmlShowsEveryChannelWithUntrustedTextEscaped() throws Exception {
        twoChannels();

        String html = get("/debug/channels", "text/html").body();

        assertThat(html)
                .startsWith("<!DOCTYPE html>")
                .contains("<h2>users <span class=\"unhealthy\">unhealthy</span></h2>")
                .contains("<h2>orders <span class=\"healthy\">healthy</span></h2>")
                .contains("<code>&lt;img src=x onerror=alert(1)&gt;:80</code>")
                .contains(
                        "<code>connection to &lt;img src=x onerror=alert(1)&gt;:80 failed: refused &amp; &lt;b&gt;reset&lt;/b&gt;</code> &times;2")
                .contains("(250 ms ago)")
                .contains("<td><code>10.0.0.1:80</code></td><td>healthy</td><td>yes</td>")
                .doesNotContain("<img")
                .doesNotContain("<b>reset");
    }

    @Test
    void anEmptyRegistryIsAnEmptyPage() throws Exception {
        JsonNode page =
                Json.mapper().readTree(get("/debug/channels?format=json", null).body());
        assertThat(page.get("channels")).isEmpty();
        assertThat(get("/debug/channels", null).body()).contains("<p>0 channels at 2026-12-06T12:00:00Z");
    }

    @Test
    void escapingCoversMarkupQuotesAndControlCharacters() {
        assertThat(Html.escape("<a href=\"x\" title='y'>&</a>"))
                .isEqualTo("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
        assertThat(Html.escape("bell\u0007 ok\ttab")).isEqualTo("bell\uFFFD ok\ttab");
        assertThat(Html.escape("plain")).isSameAs("plain");
        assertThat(Html.escape(null)).isEmpty();
    }
}
