package dev.belfry.grpc.bench;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

/**
 * Sends the JDK's own name lookups for {@code *.bench.test} to the benchmark's loopback DNS server
 * (system property {@code belfry.bench.dns}, {@code host:port}), every time with no cache, and all
 * other names to the JDK's resolver: so grpc-java's {@code dns:///} resolver, which resolves with
 * {@link InetAddress#getAllByName}, reads the same changing answers as Belfry's {@code
 * DnsAddressSource}. Installed only in the benchmark's grpc-java client JVMs, through a {@code
 * META-INF/services} file that {@link ChannelCompare} writes for them.
 */
public final class BenchDnsResolverProvider extends InetAddressResolverProvider {
    static final String PROPERTY = "belfry.bench.dns";
    static final String SERVICE_FILE = "META-INF/services/java.net.spi.InetAddressResolverProvider";

    @Override
    public InetAddressResolver get(Configuration configuration) {
        InetAddressResolver builtin = configuration.builtinResolver();
        String server = System.getProperty(PROPERTY);
        if (server == null) {
            return builtin;
        }
        int colon = server.lastIndexOf(':');
        InetSocketAddress nameServer =
                new InetSocketAddress(server.substring(0, colon), Integer.parseInt(server.substring(colon + 1)));
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        DnsNameResolver dns = new DnsNameResolverBuilder(group.next())
                .datagramChannelType(NioDatagramChannel.class)
                .nameServerProvider(new SingletonDnsServerAddressStreamProvider(nameServer))
                .resolvedAddressTypes(ResolvedAddressTypes.IPV4_ONLY)
                .resolveCache(NoopDnsCache.INSTANCE)
                .build();
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                if (!host.endsWith(".bench.test")) {
                    return builtin.lookupByName(host, policy);
                }
                try {
                    List<InetAddress> found = dns.resolveAll(host).get();
                    return found.stream();
                } catch (ExecutionException e) {
                    UnknownHostException unknown = new UnknownHostException(host + ": " + e.getCause());
                    unknown.initCause(e.getCause());
                    throw unknown;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new UnknownHostException(host + ": interrupted");
                }
            }

            @Override
            public String lookupByAddress(byte[] address) throws UnknownHostException {
                return builtin.lookupByAddress(address);
            }
        };
    }

    @Override
    public String name() {
        return "belfry-bench-dns";
    }
}
