package dev.belfry.netty.accept;

import dev.belfry.Checks;
import dev.belfry.time.Clock;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs accept failures on a server channel, at most once per ten seconds with the number
 * suppressed, and keeps the channel open: the handler of every listening socket Belfry has.
 *
 * <p>Added as the server channel's handler, it puts itself behind Netty's acceptor when the
 * channel becomes active, so the acceptor sees each failure first and pauses accepting for a
 * second (on NIO), which is what keeps a process that ran out of file descriptors from spinning
 * on accept. This handler only keeps the log readable and stops the failure from reaching the
 * pipeline's end, where Netty would log every one. One instance per server channel; runs on its
 * event loop.
 */
public final class AcceptErrors extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(AcceptErrors.class);
    private static final long INTERVAL_NANOS = 10_000_000_000L;

    private final String what;
    private final Clock clock;
    private final Consumer<String> warn;
    private long lastLogged = Long.MIN_VALUE;
    private long suppressed;

    /** For the server socket of {@code what} (like "listener web"), on {@code clock}. */
    public AcceptErrors(String what, Clock clock) {
        this(what, clock, LOG::warn);
    }

    // The warning's destination is a parameter so tests can read what would be logged.
    AcceptErrors(String what, Clock clock, Consumer<String> warn) {
        this.what = Checks.notNull(what, "what");
        this.clock = Checks.notNull(clock, "clock");
        this.warn = Checks.notNull(warn, "warn");
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.pipeline().addLast(new Log());
        ctx.fireChannelActive();
    }

    /** The tail handler that does the logging. */
    private final class Log extends ChannelInboundHandlerAdapter {
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            long now = clock.nanoTime();
            if (lastLogged == Long.MIN_VALUE || now - lastLogged >= INTERVAL_NANOS) {
                warn.accept(what + ": accepting a connection failed (" + suppressed
                        + " similar failures suppressed); still listening: " + cause);
                lastLogged = now;
                suppressed = 0;
            } else {
                suppressed++;
            }
        }
    }
}
