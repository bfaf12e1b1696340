package dev.belfry.http.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One file descriptor kept open (on {@code /dev/null}) so that a server can still accept a
 * connection when the process has run out of descriptors: the server channel's first handler.
 *
 * <p>When accepting fails with "too many open files" (EMFILE, or ENFILE for the whole system)
 * and the reserve is held, the reserve is closed and the failure goes no further: Netty's
 * acceptor does not pause, the listening socket is still readable, and the next accept takes the
 * descriptor just freed. Without the reserve the failure passes on and the acceptor pauses for a
 * second, as for any accept failure. The reserve is taken back after each accepted connection
 * and each closed one, whenever a descriptor is free; a descriptor freed elsewhere in the process
 * may be taken by another thread first, so this keeps the server reachable, it does not promise
 * it. Thread-safe.
 */
final class DescriptorReserve extends ChannelInboundHandlerAdapter {
    private static final Path DEV_NULL = Path.of("/dev/null");

    private @Nullable FileChannel held;
    private boolean released;

    DescriptorReserve() {
        refill();
    }

    /** Whether the reserve is held now. */
    synchronized boolean held() {
        return held != null;
    }

    /** Takes the reserve back if it was spent and a descriptor is free; does nothing otherwise. */
    synchronized void refill() {
        if (held == null && !released) {
            try {
                held = FileChannel.open(DEV_NULL, StandardOpenOption.READ);
            } catch (IOException | UnsupportedOperationException e) {
                // Still out of descriptors (or no /dev/null): try again on the next connection.
            }
        }
    }

    /** Closes the reserve, freeing its descriptor; returns whether there was one to free. */
    synchronized boolean spend() {
        FileChannel reserve = held;
        held = null;
        if (reserve == null) {
            return false;
        }
        try {
            reserve.close();
        } catch (IOException e) {
            // Closing /dev/null does not fail; if it did, the descriptor is gone anyway.
        }
        return true;
    }

    /** Closes the reserve for good (the server is closing); it is not refilled after this. */
    synchronized void release() {
        released = true;
        spend();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (outOfDescriptors(cause) && spend()) {
            // Not passed on: the acceptor would pause accepting for a second. The socket is still
            // readable, so the event loop accepts again and takes the freed descriptor.
            ctx.channel().read();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    static boolean outOfDescriptors(Throwable cause) {
        String message = cause.getMessage();
        return cause instanceof IOException
                && message != null
                && message.toLowerCase(Locale.ROOT).contains("too many open files");
    }
}
