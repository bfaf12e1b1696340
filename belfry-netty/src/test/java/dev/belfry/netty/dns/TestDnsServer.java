package dev.belfry.netty.dns;

import dev.belfry.netty.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsOpCode;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.util.NetUtil;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny authoritative DNS server on a loopback UDP port, built from Netty's DNS codec, whose
 * answers the test changes while a resolver runs: address records and their TTL per name, or a
 * failure mode (NXDOMAIN, SERVFAIL, or no answer at all so the client times out).
 *
 * <p>Public and in this module's test jar, so that other modules' tests (the proxy's DNS-discovered
 * clusters, the warm pools' DNS address source) can run against it too, failure modes included.
 */
public final class TestDnsServer implements AutoCloseable {

    /** How the server answers every query. */
    public enum Mode {
        /** The records set for the name, or NXDOMAIN for a name with none. */
        ANSWER,
        /** NXDOMAIN (rcode 3) for every name. */
        NXDOMAIN,
        /** SERVFAIL (rcode 2) for every name. */
        SERVFAIL,
        /** No answer at all, so the client times out. */
        DROP
    }

    private record Address(InetAddress ip, long ttl) {}

    private record Answer(List<Address> a, List<Address> aaaa) {}

    private record Srv(int priority, int weight, int port, String target, long ttl) {}

    private final EventLoopGroup group;
    private final Channel channel;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    private final Map<String, List<Srv>> services = new ConcurrentHashMap<>();
    private final AtomicInteger queries = new AtomicInteger();
    private volatile Mode mode = Mode.ANSWER;

    private TestDnsServer(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    /** Starts a server on a free UDP port of 127.0.0.1. */
    public static TestDnsServer start() throws InterruptedException {
        EventLoopGroup group = Transport.NIO.newEventLoopGroup(1, "test-dns-server");
        TestDnsServer[] self = new TestDnsServer[1];
        Channel channel = new Bootstrap()
                .group(group)
                .channel(Transport.NIO.datagramChannelType())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast(new DatagramDnsQueryDecoder())
                                .addLast(new DatagramDnsResponseEncoder())
                                .addLast(new SimpleChannelInboundHandler<DatagramDnsQuery>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
                                        self[0].answer(ctx, query);
                                    }
                                });
                    }
                })
                .bind(new InetSocketAddress(NetUtil.LOCALHOST4, 0))
                .sync()
                .channel();
        self[0] = new TestDnsServer(group, channel);
        return self[0];
    }

    /** Where the server listens. */
    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /**
     * Answers {@code name} with these addresses (IPv4 as A, IPv6 as AAAA) and {@code ttl}; an address
     * written {@code ip@seconds} gets its own TTL.
     */
    public void set(String name, long ttl, String... addresses) {
        List<Address> a = new ArrayList<>();
        List<Address> aaaa = new ArrayList<>();
        for (String address : addresses) {
            int at = address.indexOf('@');
            long own = at < 0 ? ttl : Long.parseLong(address.substring(at + 1));
            InetAddress ip = NetUtil.createInetAddressFromIpAddressString(at < 0 ? address : address.substring(0, at));
            (ip instanceof Inet4Address ? a : aaaa).add(new Address(ip, own));
        }
        answers.put(key(name), new Answer(List.copyOf(a), List.copyOf(aaaa)));
    }

    /** Answers SRV queries for {@code name} with records written {@code "priority weight port target"}. */
    void setSrv(String name, long ttl, String... records) {
        List<Srv> parsed = new ArrayList<>();
        for (String record : records) {
            String[] parts = record.trim().split("\\s+", 4);
            parsed.add(new Srv(
                    Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2]), parts[3], ttl));
        }
        services.put(key(name), List.copyOf(parsed));
    }

    /**
     * Forgets {@code name}'s address records: it answers NXDOMAIN from now on (unless it has SRV
     * records).
     */
    public void remove(String name) {
        answers.remove(key(name));
    }

    /** Answers every later query as {@code mode} says. */
    public void mode(Mode mode) {
        this.mode = mode;
    }

    /** Queries received so far, of any type. */
    public int queries() {
        return queries.get();
    }

    private void answer(ChannelHandlerContext ctx, DatagramDnsQuery query) {
        queries.incrementAndGet();
        Mode now = mode;
        if (now == Mode.DROP) {
            return; // The query is released by SimpleChannelInboundHandler; the client times out.
        }
        DnsQuestion question = query.recordAt(DnsSection.QUESTION);
        DnsResponseCode code = switch (now) {
            case NXDOMAIN -> DnsResponseCode.NXDOMAIN;
            case SERVFAIL -> DnsResponseCode.SERVFAIL;
            default -> DnsResponseCode.NOERROR;
        };
        Answer answer = answers.get(key(question.name()));
        List<Srv> srv = services.get(key(question.name()));
        if (now == Mode.ANSWER && answer == null && srv == null) {
            code = DnsResponseCode.NXDOMAIN;
        }
        DatagramDnsResponse response =
                new DatagramDnsResponse(query.recipient(), query.sender(), query.id(), DnsOpCode.QUERY, code);
        response.setAuthoritativeAnswer(true);
        response.setRecursionDesired(query.isRecursionDesired());
        response.setRecursionAvailable(true);
        response.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(question.name(), question.type()));
        if (code.equals(DnsResponseCode.NOERROR)
                && srv != null
                && question.type().equals(DnsRecordType.SRV)) {
            for (Srv record : srv) {
                ByteBuf data = Unpooled.buffer();
                data.writeShort(record.priority()).writeShort(record.weight()).writeShort(record.port());
                writeName(record.target(), data);
                response.addRecord(
                        DnsSection.ANSWER,
                        new DefaultDnsRawRecord(question.name(), DnsRecordType.SRV, record.ttl(), data));
            }
        }
        if (code.equals(DnsResponseCode.NOERROR) && answer != null) {
            List<Address> records = question.type().equals(DnsRecordType.A)
                    ? answer.a()
                    : question.type().equals(DnsRecordType.AAAA) ? answer.aaaa() : List.of();
            for (Address address : records) {
                // The response owns these buffers; the encoder releases the response once written.
                response.addRecord(
                        DnsSection.ANSWER,
                        new DefaultDnsRawRecord(
                                question.name(),
                                question.type(),
                                address.ttl(),
                                Unpooled.wrappedBuffer(address.ip().getAddress())));
            }
        }
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }

    // Uncompressed wire format: each label prefixed by its length, then the empty root label.
    private static void writeName(String name, ByteBuf out) {
        for (String label : name.split("\\.", -1)) {
            if (!label.isEmpty()) {
                byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
                out.writeByte(bytes.length).writeBytes(bytes);
            }
        }
        out.writeByte(0);
    }

    private static String key(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower : lower + ".";
    }

    @Override
    public void close() throws InterruptedException {
        channel.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    }
}
