package dev.belfry.netty.transport;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.test.NoNettyLeaks;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@ExtendWith(NoNettyLeaks.class)
class TransportTest {
    private final List<EventLoopGroup> groups = new ArrayList<>();

    @AfterEach
    void shutDownGroups() throws InterruptedException {
        for (EventLoopGroup group : groups) {
            assertThat(group.shutdownGracefully(0, 1, SECONDS).await(5, SECONDS))
                    .isTrue();
        }
    }

    @Test
    void autoSelectsAnAvailableTransport() {
        Transport chosen = Transport.select("auto", Transport.PROPERTY);

        assertThat(chosen.isAvailable()).isTrue();
        assertThat(chosen).isEqualTo(Transport.best());
    }

    @Test
    void autoPrefersEpollThenIoUringThenNio() {
        assertThat(Transport.select("auto", "t", unavailable())).isEqualTo(Transport.EPOLL);
        assertThat(Transport.select("auto", "t", unavailable(Transport.EPOLL))).isEqualTo(Transport.IO_URING);
        assertThat(Transport.select("AUTO", "t", unavailable(Transport.IO_URING, Transport.EPOLL)))
                .isEqualTo(Transport.NIO);
        assertThat(Transport.select("auto", "t", unavailable(Transport.IO_URING)))
                .as("io_uring missing changes nothing")
                .isEqualTo(Transport.EPOLL);
    }

    @Test
    void bestTakesTheFirstAvailableInPreferenceOrder() {
        Transport best = Transport.best();
        for (Transport better : List.of(Transport.EPOLL, Transport.IO_URING, Transport.NIO)) {
            if (better == best) {
                break;
            }
            assertThat(better.isAvailable())
                    .as(better + " is preferred, so must be unavailable")
                    .isFalse();
        }
        assertThat(best.isAvailable()).isTrue();
    }

    @Test
    void forcingNioWorksWhateverElseIsAvailable() {
        assertThat(Transport.select("nio", Transport.PROPERTY)).isEqualTo(Transport.NIO);
        assertThat(Transport.select(" NIO ", Transport.PROPERTY)).isEqualTo(Transport.NIO);
        assertThat(Transport.select("nio", "t", unavailable(Transport.IO_URING, Transport.EPOLL)))
                .isEqualTo(Transport.NIO);
    }

    @Test
    void namedTransportsAreAcceptedInTheirUsualSpellings() {
        assertThat(Transport.select("io_uring", "t", unavailable())).isEqualTo(Transport.IO_URING);
        assertThat(Transport.select("iouring", "t", unavailable())).isEqualTo(Transport.IO_URING);
        assertThat(Transport.select("Epoll", "t", unavailable())).isEqualTo(Transport.EPOLL);
    }

    @Test
    void forcingAnUnavailableTransportFailsNamingTheSetting() {
        assertThatThrownBy(() -> Transport.select("epoll", "belfry.transport", unavailable(Transport.EPOLL)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("belfry.transport=epoll but the epoll transport is not available here")
                .hasMessageContaining("no native library")
                .hasMessageEndingWith("use belfry.transport=auto to fall back to the best available one")
                .hasRootCauseMessage("no native library");
    }

    @Test
    void anUnknownTransportFailsListingTheValidOnes() {
        assertThatThrownBy(() -> Transport.select("kqueue", "proxy.transport"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("proxy.transport must be one of auto, io_uring, epoll, nio, was 'kqueue'");
    }

    @Test
    void selectReadsTheSystemProperty() {
        String before = System.getProperty(Transport.PROPERTY);
        try {
            System.setProperty(Transport.PROPERTY, "nio");
            assertThat(Transport.select()).isEqualTo(Transport.NIO);
            System.setProperty(Transport.PROPERTY, "bogus");
            assertThatThrownBy(Transport::select).hasMessageStartingWith("belfry.transport must be one of");
            System.clearProperty(Transport.PROPERTY);
            assertThat(Transport.select()).isEqualTo(Transport.best());
        } finally {
            if (before == null) {
                System.clearProperty(Transport.PROPERTY);
            } else {
                System.setProperty(Transport.PROPERTY, before);
            }
        }
    }

    @Test
    void theRelayRuleTakesEpollThenNioUnlessTheSettingNamesAnother() {
        Function<Transport, @Nullable Throwable> allAvailable = unavailable();
        Function<Transport, @Nullable Throwable> noEpoll = unavailable(Transport.EPOLL);

        assertThat(Transport.selectForRelay(null, "t", allAvailable)).isEqualTo(Transport.EPOLL);
        assertThat(Transport.selectForRelay(" ", "t", allAvailable)).isEqualTo(Transport.EPOLL);
        assertThat(Transport.selectForRelay(" Auto ", "t", allAvailable)).isEqualTo(Transport.EPOLL);
        assertThat(Transport.selectForRelay(null, "t", noEpoll)).isEqualTo(Transport.NIO);
        assertThat(Transport.selectForRelay("auto", "t", noEpoll)).isEqualTo(Transport.NIO);
        assertThat(Transport.selectForRelay("nio", "t", allAvailable)).isEqualTo(Transport.NIO);
        assertThat(Transport.selectForRelay("io_uring", "t", allAvailable)).isEqualTo(Transport.IO_URING);
    }

    @Test
    void theRelayRuleFailsLikeSelectOnABadSetting() {
        assertThatThrownBy(() -> Transport.selectForRelay("epoll", "belfry.transport", unavailable(Transport.EPOLL)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("belfry.transport=epoll but the epoll transport is not available here");
        assertThatThrownBy(() -> Transport.selectForRelay("kqueue", "belfry.transport", unavailable()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("belfry.transport must be one of auto, io_uring, epoll, nio, was 'kqueue'");
    }

    @Test
    void selectForRelayReadsTheSystemProperty() {
        String before = System.getProperty(Transport.PROPERTY);
        try {
            Transport expected = Transport.EPOLL.isAvailable() ? Transport.EPOLL : Transport.NIO;
            System.clearProperty(Transport.PROPERTY);
            assertThat(Transport.selectForRelay()).isEqualTo(expected);
            System.setProperty(Transport.PROPERTY, "auto");
            assertThat(Transport.selectForRelay()).isEqualTo(expected);
            System.setProperty(Transport.PROPERTY, "nio");
            assertThat(Transport.selectForRelay()).isEqualTo(Transport.NIO);
        } finally {
            if (before == null) {
                System.clearProperty(Transport.PROPERTY);
            } else {
                System.setProperty(Transport.PROPERTY, before);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void eachAvailableTransportServesTcpAndUdpOnLoopback(Transport transport) throws InterruptedException {
        if (!transport.isAvailable()) {
            assertThatThrownBy(() -> transport.newEventLoopGroup(1, "test"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(transport.setting());
            return;
        }
        EventLoopGroup group = transport.newEventLoopGroup(1, "test-" + transport.setting());
        groups.add(group);
        InetSocketAddress loopback = new InetSocketAddress(NetUtil.LOCALHOST4, 0);

        Channel server = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelType())
                .childHandler(new ChannelInboundHandlerAdapter())
                .bind(loopback)
                .sync()
                .channel();
        Channel client = new Bootstrap()
                .group(group)
                .channel(transport.channelType())
                .handler(new ChannelInboundHandlerAdapter())
                .connect(server.localAddress())
                .sync()
                .channel();
        Channel udp = new Bootstrap()
                .group(group)
                .channel(transport.datagramChannelType())
                .handler(new ChannelInboundHandlerAdapter())
                .bind(loopback)
                .sync()
                .channel();

        assertThat(client.isActive()).isTrue();
        assertThat(((InetSocketAddress) udp.localAddress()).getPort()).isPositive();
        assertThat(client.close().await(5, SECONDS)).isTrue();
        assertThat(udp.close().await(5, SECONDS)).isTrue();
        assertThat(server.close().await(5, SECONDS)).isTrue();
    }

    @Test
    void newEventLoopGroupRejectsBadArguments() {
        assertThatThrownBy(() -> Transport.NIO.newEventLoopGroup(0, "x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("threads must be at least 1, was 0");
    }

    private static Function<Transport, @Nullable Throwable> unavailable(Transport... missing) {
        Set<Transport> gone = Set.of(missing);
        return transport -> gone.contains(transport) ? new UnsatisfiedLinkError("no native library") : null;
    }
}
