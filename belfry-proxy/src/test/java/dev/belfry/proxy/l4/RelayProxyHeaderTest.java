package dev.belfry.proxy.l4;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.proxy.config.ListenerConfig;
import dev.belfry.proxy.config.ProxyProtocol;
import dev.belfry.test.NoNettyLeaks;
import dev.belfry.time.Clock;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The relay's PROXY-protocol intake in an {@link EmbeddedChannel}: headers fed whole, one byte at a
 * time and in random fragments; bad headers; and the header wait at exactly t-1 and t. The relay's
 * engine is a fake with no cluster, so a header accepted leads to a connect that finds none: counted
 * as "no backend", where a rejected header counts as a header failure.
 */
@ExtendWith(NoNettyLeaks.class)
class RelayProxyHeaderTest {
    private static final Duration WAIT = Duration.ofMillis(300);
    private static final String V1 = "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n";
    // v2 signature, PROXY command, TCP over IPv4, 12 address bytes: 192.0.2.1:56324 -> 198.51.100.1:443.
    private static final byte[] V2 = HexFormat.of()
            .parseHex("0d0a0d0a000d0a515549540a" + "21" + "11" + "000c" + "c0000201" + "c6336401" + "dc04" + "01bb");

    /** How the header is cut into reads. */
    enum Feed {
        WHOLE,
        BYTE_BY_BYTE,
        RANDOM_FRAGMENTS
    }

    private final List<EmbeddedChannel> clients = new ArrayList<>();
    private final Set<RelayBase> open = new HashSet<>();
    private final AtomicInteger closed = new AtomicInteger();
    // The engine as a relay sees it, with no cluster: a header accepted leads to "no backend".
    private final RelayEngine engine = new RelayEngine() {
        @Override
        public boolean accepting() {
            return true;
        }

        @Override
        public @Nullable Cluster cluster(String name) {
            return null;
        }

        @Override
        public Clock clock() {
            return Clock.system();
        }

        @Override
        public void opened(RelayBase relay) {
            open.add(relay);
        }

        @Override
        public void closed(RelayBase relay) {
            assertThat(open.remove(relay)).as("closed once, after it opened").isTrue();
            closed.incrementAndGet();
        }
    };
    private Listener listener = listener(ProxyProtocol.V1);

    @AfterEach
    void close() {
        clients.forEach(EmbeddedChannel::finishAndReleaseAll);
        assertThat(open).as("every relay told the engine it closed").isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void aV1HeaderIsAcceptedOnlyOnceWhole(Feed feed) throws Exception {
        EmbeddedChannel client = accepted();

        feed(client, V1.getBytes(StandardCharsets.US_ASCII), feed, true);

        assertThat(client.isOpen())
                .as("closed: the engine has no cluster to connect to")
                .isFalse();
        assertThat(listener.stats().proxyHeaderFailures()).isZero();
        assertThat(listener.stats().noBackendFailures()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void aV2HeaderIsAcceptedOnlyOnceWhole(Feed feed) throws Exception {
        listener = listener(ProxyProtocol.V2);
        EmbeddedChannel client = accepted();

        feed(client, V2, feed, true);

        assertThat(client.isOpen()).isFalse();
        assertThat(listener.stats().proxyHeaderFailures()).isZero();
        assertThat(listener.stats().noBackendFailures()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void somethingElseThanAHeaderIsAHeaderFailure(Feed feed) throws Exception {
        EmbeddedChannel client = accepted();

        feed(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII), feed, false);

        assertThat(client.isOpen()).isFalse();
        assertThat(listener.stats().proxyHeaderFailures()).isEqualTo(1);
        assertThat(listener.stats().noBackendFailures()).isZero();
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void aV2HeaderWhereV1IsExpectedIsAHeaderFailure(Feed feed) throws Exception {
        EmbeddedChannel client = accepted();

        feed(client, V2, feed, false);

        assertThat(client.isOpen()).isFalse();
        assertThat(listener.stats().proxyHeaderFailures()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Feed.class)
    void aTruncatedHeaderIsClosedWhenTheListenersWaitEndsNotBefore(Feed feed) throws Exception {
        EmbeddedChannel client = accepted();
        byte[] header = V1.getBytes(StandardCharsets.US_ASCII);
        feed(client, Arrays.copyOf(header, header.length - 2), feed, true);

        client.advanceTimeBy(WAIT.toMillis() - 1, MILLISECONDS);
        client.runScheduledPendingTasks();
        assertThat(client.isOpen()).isTrue();

        client.advanceTimeBy(1, MILLISECONDS);
        client.runScheduledPendingTasks();
        assertThat(client.isOpen()).isFalse();
        assertThat(listener.stats().proxyHeaderFailures()).isEqualTo(1);
    }

    private EmbeddedChannel accepted() {
        // Registered (and active) with no handlers, its time frozen; then set up as the listener's
        // initializer does, and told it is active, as an accepted channel is once set up.
        EmbeddedChannel client = new EmbeddedChannel();
        client.freezeTime();
        Relay.accept(engine, listener, client);
        client.pipeline().fireChannelActive();
        clients.add(client);
        return client;
    }

    /**
     * Feeds {@code bytes} as {@code feed} says, each piece allocated only when fed, until the relay
     * closes; with {@code whole}, checks that the relay waits for the last byte.
     */
    private static void feed(EmbeddedChannel client, byte[] bytes, Feed feed, boolean whole) {
        Random random = new Random(7);
        int at = 0;
        while (at < bytes.length && client.isOpen()) {
            int length = switch (feed) {
                case WHOLE -> bytes.length;
                case BYTE_BY_BYTE -> 1;
                case RANDOM_FRAGMENTS -> 1 + random.nextInt(Math.min(5, bytes.length - at));
            };
            client.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, at, at + length)));
            at += length;
            if (whole && at < bytes.length) {
                assertThat(client.isOpen())
                        .as("open with %d of %d bytes", at, bytes.length)
                        .isTrue();
            }
        }
    }

    private ListenerConfig listenerConfig(ProxyProtocol accept) {
        return new ListenerConfig(
                "web",
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                "app",
                100,
                Duration.ofSeconds(30),
                accept,
                WAIT);
    }

    private Listener listener(ProxyProtocol accept) {
        ListenerConfig config = listenerConfig(accept);
        return new Listener(config, new ListenerStats(config.name(), config.listen()));
    }
}
