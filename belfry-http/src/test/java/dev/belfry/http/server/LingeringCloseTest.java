package dev.belfry.http.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.test.NoNettyLeaks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The lingering close on an {@link EmbeddedChannel}, whose clock the test advances. */
@ExtendWith(NoNettyLeaks.class)
class LingeringCloseTest {
    private static final Duration LINGER = Duration.ofSeconds(2);
    private final LingeringClose linger = new LingeringClose(LINGER, 1000);
    private final EmbeddedChannel channel = frozen(linger);

    // The channel's clock stands still from before the handler arms its timer: only the test moves it.
    private static EmbeddedChannel frozen(LingeringClose handler) {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.freezeTime();
        channel.pipeline().addLast(handler);
        return channel;
    }

    @Test
    void closesAtTheLingerTimeoutAndNotBefore() {
        channel.advanceTimeBy(LINGER.toMillis() - 1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isTrue();

        channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void discardsWhatTheClientSendsUpToTheByteLimitThenCloses() {
        ByteBuf first = Unpooled.wrappedBuffer(new byte[600]);
        ByteBuf second = Unpooled.wrappedBuffer(new byte[400]);
        channel.writeInbound(first);
        channel.writeInbound(second);

        assertThat(first.refCnt()).as("released, not passed on").isZero();
        assertThat(second.refCnt()).isZero();
        assertThat(channel.<Object>readInbound()).isNull();
        assertThat(linger.discarded()).isEqualTo(1000);
        assertThat(channel.isOpen()).as("exactly at the limit").isTrue();

        ByteBuf oneMore = Unpooled.wrappedBuffer(new byte[1]);
        channel.writeInbound(oneMore);
        assertThat(oneMore.refCnt()).isZero();
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void closesAsSoonAsTheClientClosesItsSide() {
        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);

        assertThat(channel.isOpen()).isFalse();
        assertThat(channel.runScheduledPendingTasks())
                .as("the linger timer is cancelled")
                .isEqualTo(-1);
    }

    @Test
    void aZeroLingerTimeoutClosesAtOnce() {
        EmbeddedChannel plain = new EmbeddedChannel();
        LingeringClose.closeAfterResponse(plain, ServerLimits.defaults().withLingerTimeout(Duration.ZERO));
        assertThat(plain.isOpen()).isFalse();
    }

    @Test
    void limitsRejectANegativeLinger() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> ServerLimits.defaults().withMaxLingerBytes(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxLingerBytes must not be negative, was -1");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> ServerLimits.defaults().withLingerTimeout(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lingerTimeout");
        assertThat(ServerLimits.defaults().lingerTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(ServerLimits.defaults().maxLingerBytes()).isEqualTo(4L << 20);
    }
}
