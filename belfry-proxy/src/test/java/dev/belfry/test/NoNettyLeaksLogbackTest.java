package dev.belfry.test;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The leak check hears Netty through Logback, as in the proxy: a PROXY-protocol message dropped
 * without release is reported by its own leak detector (not the buffers' listener), in a log line,
 * when that detector next tracks a message.
 */
class NoNettyLeaksLogbackTest {

    @Test
    void aProxyProtocolMessageDroppedWithoutReleaseFailsTheClass() throws Exception {
        assertThat(LoggerFactory.getLogger(NoNettyLeaksLogbackTest.class))
                .as("Netty logs through Logback here")
                .isInstanceOf(ch.qos.logback.classic.Logger.class);

        String failure = NoNettyLeaksTest.LeakCheck.failureAfter(
                () -> message(), () -> message().release());

        assertThat(failure).contains("LEAK").contains("HAProxyMessage");
    }

    private static HAProxyMessage message() {
        return new HAProxyMessage(
                HAProxyProtocolVersion.V1,
                HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP4,
                "10.0.0.1",
                "10.0.0.2",
                1234,
                80);
    }
}
