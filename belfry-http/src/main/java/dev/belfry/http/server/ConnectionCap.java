package dev.belfry.http.server;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.util.AttributeKey;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The most connections a server keeps open; past it, a new connection closes the one that has
 * waited longest for a request, so idle clients cannot lock out a new one (a health probe, say).
 *
 * <p>A connection waits for a request from the moment it is accepted and again after each
 * answer; HTTP/1.1 bytes of a request that trickle in do not end the wait, only a request whose
 * head is read whole does. An HTTP/2 connection never counts as waiting: it may carry streams at
 * any time. When no connection waits, the new one is closed at once. Each waiting connection
 * holds a ticket from one counter: the smallest ticket has waited longest, with no clock needed.
 * Thread-safe: the tickets are channel attributes read from any event loop.
 */
final class ConnectionCap {
    private static final AttributeKey<Ticket> WAITING = AttributeKey.valueOf(ConnectionCap.class, "waiting");
    private static final AtomicLong TICKETS = new AtomicLong();

    private final int max;

    ConnectionCap(int max) {
        this.max = max;
    }

    /** Marks {@code channel} as waiting for a request, from now unless it already waits. */
    static void waiting(Channel channel) {
        Ticket ticket = ticket(channel);
        if (ticket.number == 0) {
            ticket.number = TICKETS.incrementAndGet();
        }
    }

    /** Marks {@code channel} as busy: a request is being answered, or it speaks HTTP/2. */
    static void busy(Channel channel) {
        ticket(channel).number = 0;
    }

    private static Ticket ticket(Channel channel) {
        Ticket ticket = channel.attr(WAITING).get();
        if (ticket == null) {
            ticket = new Ticket();
            Ticket raced = channel.attr(WAITING).setIfAbsent(ticket);
            if (raced != null) {
                ticket = raced;
            }
        }
        return ticket;
    }

    /**
     * A connection's place in the wait: 0 while it is busy. One per connection, changed in place
     * on its event loop and read from others, so a request costs no object.
     */
    private static final class Ticket {
        volatile long number;
    }

    /**
     * Makes room for {@code accepted} among {@code connections} (which it is not in yet): returns
     * true if it may stay, after closing the longest-waiting connection if the cap was reached;
     * false if every connection is busy.
     */
    boolean admit(Channel accepted, ChannelGroup connections) {
        waiting(accepted);
        if (connections.size() < max) {
            return true;
        }
        @Nullable Channel oldest = null;
        long oldestTicket = Long.MAX_VALUE;
        for (Channel channel : connections) {
            Ticket ticket = channel.attr(WAITING).get();
            long number = ticket == null ? 0 : ticket.number;
            if (number != 0 && number < oldestTicket) {
                oldest = channel;
                oldestTicket = number;
            }
        }
        if (oldest == null) {
            return false;
        }
        // Out of the group now, so the count is right for the next accept.
        connections.remove(oldest);
        oldest.close();
        return true;
    }
}
