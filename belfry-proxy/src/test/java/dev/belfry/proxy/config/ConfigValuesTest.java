package dev.belfry.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigValuesTest {

    /** The address an IP literal spells (the JDK parses literals without DNS). */
    static InetAddress ip(String literal) throws Exception {
        return InetAddress.getAllByName(literal)[0];
    }

    @ParameterizedTest(name = "{0} is {1} ns")
    @CsvSource({
        "0s, 0",
        "1ms, 1000000",
        "250ms, 250000000",
        "0.5ms, 500000",
        "5s, 5000000000",
        "1.5s, 1500000000",
        "0.001s, 1000000",
        "1m, 60000000000",
        "2.5m, 150000000000",
        "1h, 3600000000000",
        "8760h, 31536000000000000",
    })
    void durationsAcceptANumberAndOneUnit(String text, long nanos) {
        assertThat(ConfigValues.duration(text)).isEqualTo(Duration.ofNanos(nanos));
    }

    @ParameterizedTest(name = "\"{0}\" is rejected")
    @ValueSource(
            strings = {
                "",
                "5",
                "-5s",
                "+5s",
                "5 s",
                " 5s",
                "5S",
                "5sec",
                "5 seconds",
                "1m30s",
                ".5s",
                "5.s",
                "1e3ms",
                "5d",
                "5us",
                "PT5S",
                "s"
            })
    void durationsRejectEverythingElseListingTheAcceptedForms(String text) {
        assertThatThrownBy(() -> ConfigValues.duration(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a duration like \"250ms\", \"5s\", \"1.5s\", \"1m\" or \"1h\", was \""
                        + text.replace("\"", "\\\"") + "\"");
    }

    @Test
    void durationsLongerThanAYearOrFinerThanANanosecondAreRejected() {
        assertThatThrownBy(() -> ConfigValues.duration("8761h")).hasMessage("at most 8760h, was \"8761h\"");
        assertThatThrownBy(() -> ConfigValues.duration("99999999999999999999999h"))
                .hasMessage("at most 8760h, was \"99999999999999999999999h\"");
        assertThatThrownBy(() -> ConfigValues.duration("0.0000001ms"))
                .hasMessage("a whole number of nanoseconds, was \"0.0000001ms\"");
    }

    @ParameterizedTest(name = "{0} formats as {1}")
    @CsvSource({"PT0S, 0s", "PT0.25S, 250ms", "PT1.5S, 1500ms", "PT5S, 5s", "PT1M, 1m", "PT90S, 90s", "PT2H, 2h"})
    void durationsFormatInTheLargestWholeUnit(Duration duration, String text) {
        assertThat(ConfigValues.format(duration)).isEqualTo(text);
        assertThat(ConfigValues.duration(text)).isEqualTo(duration);
    }

    @Test
    void listenAddressesAreLiteralsLocalhostOrTheWildcard() throws Exception {
        assertThat(ConfigValues.listenAddress("0.0.0.0:8080")).isEqualTo(new InetSocketAddress(ip("0.0.0.0"), 8080));
        assertThat(ConfigValues.listenAddress("*:8080")).isEqualTo(new InetSocketAddress(8080));
        assertThat(ConfigValues.listenAddress("localhost:80"))
                .isEqualTo(new InetSocketAddress(InetAddress.getLoopbackAddress(), 80));
        assertThat(ConfigValues.listenAddress("[::1]:9901")).isEqualTo(new InetSocketAddress(ip("::1"), 9901));
        assertThat(ConfigValues.listenAddress("[::]:0").getAddress().isAnyLocalAddress())
                .isTrue();
        assertThat(ConfigValues.listenAddress("10.1.2.3:65535").isUnresolved()).isFalse();
    }

    @Test
    void listenAddressesRejectNamesPortsOutOfRangeAndBareIpv6() {
        assertThatThrownBy(() -> ConfigValues.listenAddress("example.com:80"))
                .hasMessage("a literal IP address, \"localhost\" or \"*\" and a port, like \"0.0.0.0:8080\", was"
                        + " \"example.com:80\" (listeners do not resolve names)");
        assertThatThrownBy(() -> ConfigValues.listenAddress("0.0.0.0"))
                .hasMessage("HOST:PORT, like \"0.0.0.0:8080\", was \"0.0.0.0\"");
        assertThatThrownBy(() -> ConfigValues.listenAddress("0.0.0.0:65536"))
                .hasMessage("HOST:PORT with a port from 0 to 65535, was \"0.0.0.0:65536\"");
        assertThatThrownBy(() -> ConfigValues.listenAddress("0.0.0.0:-1"))
                .hasMessage("HOST:PORT with a port from 0 to 65535, was \"0.0.0.0:-1\"");
        assertThatThrownBy(() -> ConfigValues.listenAddress("0.0.0.0:"))
                .hasMessage("HOST:PORT with a port from 0 to 65535, was \"0.0.0.0:\"");
        assertThatThrownBy(() -> ConfigValues.listenAddress(":8080"))
                .hasMessage("HOST:PORT with a host before the colon, like \"0.0.0.0:8080\", was \":8080\"");
        assertThatThrownBy(() -> ConfigValues.listenAddress("::1:8080"))
                .hasMessage("HOST:PORT with IPv6 in brackets, like \"[::1]:8080\", was \"::1:8080\"");
        assertThatThrownBy(() -> ConfigValues.listenAddress("[::1]8080"))
                .hasMessage("HOST:PORT with IPv6 in brackets, like \"[::1]:8080\", was \"[::1]8080\"");
        assertThatThrownBy(() -> ConfigValues.listenAddress("[1:2:3:4:5:6:7:8:9]:80"))
                .hasMessage("a valid IPv6 address, was \"1:2:3:4:5:6:7:8:9\"");
        assertThatThrownBy(() -> ConfigValues.listenAddress("10.0.0.256:80"))
                .hasMessageStartingWith("a literal IP address");
    }

    @Test
    void backendAddressesKeepNamesUnresolvedForTheConnector() throws Exception {
        InetSocketAddress named = ConfigValues.backendAddress("app-1.svc.cluster.local:9001");
        assertThat(named.isUnresolved()).isTrue();
        assertThat(named.getHostString()).isEqualTo("app-1.svc.cluster.local");
        assertThat(named.getPort()).isEqualTo(9001);

        InetSocketAddress literal = ConfigValues.backendAddress("[2001:db8::1]:80");
        assertThat(literal.isUnresolved()).isFalse();
        assertThat(literal.getAddress()).isEqualTo(ip("2001:db8::1"));
        assertThat(ConfigValues.backendAddress("127.0.0.1:9001"))
                .isEqualTo(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9001));
    }

    @Test
    void backendAddressesRejectPortZeroAndMalformedNames() {
        assertThatThrownBy(() -> ConfigValues.backendAddress("127.0.0.1:0"))
                .hasMessage("HOST:PORT with a port from 1 to 65535, was \"127.0.0.1:0\"");
        for (String bad : List.of("bad_name-.x:80", "a..b:80", "-a:80", "10.0.0.300:80", "*:80", "[1.2.3.4]:80")) {
            assertThatThrownBy(() -> ConfigValues.backendAddress(bad))
                    .as(bad)
                    .hasMessage("an IP address or a host name, was \"" + bad + "\"");
        }
    }

    @ParameterizedTest(name = "{0} formats as {1}")
    @CsvSource({
        "'[::]:80', '[::]:80'",
        "'[::1]:80', '[::1]:80'",
        "'[2001:DB8:0:0:1:0:0:1]:80', '[2001:db8::1:0:0:1]:80'",
        "'[2001:db8:0:1:1:1:1:1]:80', '[2001:db8:0:1:1:1:1:1]:80'",
        "'[fe80::]:80', '[fe80::]:80'",
        "'10.0.0.1:9001', '10.0.0.1:9001'",
        "'app.local:9001', 'app.local:9001'",
    })
    void addressesFormatAsWrittenWithIpv6Compressed(String text, String formatted) {
        assertThat(Addresses.format(ConfigValues.backendAddress(text))).isEqualTo(formatted);
    }

    @Test
    void closestFindsTyposIncludingSwappedLetters() {
        List<String> keys = List.of("name", "listen", "cluster", "max_connections");
        assertThat(ConfigValues.closest("nmae", keys)).isEqualTo("name");
        assertThat(ConfigValues.closest("lisen", keys)).isEqualTo("listen");
        assertThat(ConfigValues.closest("max_conections", keys)).isEqualTo("max_connections");
        assertThat(ConfigValues.closest("NAME", keys)).isEqualTo("name");
        assertThat(ConfigValues.closest("colour", keys)).isNull();
        assertThat(ConfigValues.closest("max_conn", keys)).isEqualTo("max_connections");
        assertThat(ConfigValues.closest("lvl", List.of("level", "json"))).isEqualTo("level");
        assertThat(ConfigValues.closest("max_ej", List.of("max_ejected_percent", "max_ejection_time")))
                .isNull();
        assertThat(ConfigValues.closest("udp", List.of("tcp", "http"))).isNull();
    }

    @Test
    void quoteEscapesWhatWouldMisleadInAMessage() {
        assertThat(ConfigValues.quote("a\"b\\c\nd\u0001")).isEqualTo("\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
