package dev.belfry.grpc.bench;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A grpc-java name resolver for a fixed list of addresses, {@code static:///127.0.0.1:80,127.0.0.2:80}:
 * each address its own group, so {@code round_robin} opens a subchannel to each and {@code
 * pick_first} tries them in order. grpc-java has no such resolver built in.
 */
final class StaticResolverProvider extends NameResolverProvider {
    static final String SCHEME = "static";

    @Override
    public @Nullable NameResolver newNameResolver(URI target, NameResolver.Args args) {
        if (!SCHEME.equals(target.getScheme())) {
            return null;
        }
        List<EquivalentAddressGroup> groups = new ArrayList<>();
        for (String hostPort : target.getPath().substring(1).split(",", -1)) {
            int colon = hostPort.lastIndexOf(':');
            groups.add(new EquivalentAddressGroup(new InetSocketAddress(
                    hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)))));
        }
        List<EquivalentAddressGroup> fixed = List.copyOf(groups);
        return new NameResolver() {
            @Override
            public String getServiceAuthority() {
                return "bench";
            }

            @Override
            public void start(Listener2 listener) {
                listener.onResult(ResolutionResult.newBuilder()
                        .setAddressesOrError(io.grpc.StatusOr.fromValue(fixed))
                        .build());
            }

            @Override
            public void shutdown() {}
        };
    }

    @Override
    public String getDefaultScheme() {
        return SCHEME;
    }

    @Override
    protected boolean isAvailable() {
        return true;
    }

    @Override
    protected int priority() {
        return 5;
    }

    @Override
    public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
        return List.of(InetSocketAddress.class);
    }
}
