package dev.belfry.proxy.l4;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.proxy.config.HealthCheckConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The HTTP health check's request: a Host header servers accept, for every kind of address. */
class BackendChecksTest {
    private static final HealthCheckConfig HTTP = new HealthCheckConfig(
            HealthCheckConfig.Kind.HTTP, Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3, "/healthz", 200);

    @Test
    void anIpv6BackendIsNamedInBracketsInTheHostHeader() throws Exception {
        InetSocketAddress backend = new InetSocketAddress(
                InetAddress.getByAddress(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), 9001);

        assertThat(BackendChecks.request(HTTP, backend))
                .startsWith("GET /healthz HTTP/1.1\r\nHost: [::1]:9001\r\n")
                .endsWith("\r\nConnection: close\r\n\r\n");
    }

    @Test
    void anIpv4BackendAndANamedOneKeepTheirForm() throws Exception {
        assertThat(BackendChecks.hostHeader(
                        new InetSocketAddress(InetAddress.getByAddress(new byte[] {10, 0, 0, 7}), 80)))
                .isEqualTo("10.0.0.7:80");
        assertThat(BackendChecks.hostHeader(InetSocketAddress.createUnresolved("app.internal", 8080)))
                .isEqualTo("app.internal:8080");
        assertThat(BackendChecks.hostHeader(new InetSocketAddress(
                        InetAddress.getByAddress("app.internal", new byte[] {10, 0, 0, 8}), 8080)))
                .isEqualTo("app.internal:8080");
    }
}
