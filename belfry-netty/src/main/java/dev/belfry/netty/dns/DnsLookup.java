package dev.belfry.netty.dns;

import dev.belfry.Checks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.resolver.dns.DnsErrorCauseException;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One DNS lookup of a discovery's name, with no memory between lookups: queries A and/or AAAA
 * records (or SRV records and then each target's addresses), parses them, and reduces the answers
 * to the endpoints and their smallest TTL, or to the error that counts.
 *
 * <p>A lookup with several queries succeeds when no query failed transiently (timeout, SERVFAIL,
 * I/O) and at least one returned addresses; a transient failure on any query fails the whole
 * lookup, so half an answer never replaces a whole one. Records that do not parse (an A record that
 * is not 4 bytes, a short SRV record, an SRV target of ".") are skipped. The resolver hands over
 * reference-counted records; each is released once parsed.
 *
 * <p>When to look up again, and what to do with a failure, is {@link DnsRefresh}'s business. Thread-
 * safe: lookups may overlap, although {@link DnsDiscover} runs one at a time; results complete on
 * the resolver's event loop.
 */
final class DnsLookup implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DnsDiscover.class.getName());

    private final String host;
    private final int port;
    private final boolean srv;
    private final DnsNameResolver resolver;
    private final List<DnsRecordType> types;

    /**
     * Lookups of {@code host} through {@code resolver}: its addresses each published with {@code
     * port}, or with {@code srv}, its SRV records' targets with their own ports.
     */
    DnsLookup(String host, int port, boolean srv, DnsNameResolver resolver) {
        this.host = host;
        this.port = port;
        this.srv = srv;
        this.resolver = resolver;
        this.types = switch (resolver.resolvedAddressTypes()) {
            case IPV4_ONLY -> List.of(DnsRecordType.A);
            case IPV6_ONLY -> List.of(DnsRecordType.AAAA);
            case IPV4_PREFERRED -> List.of(DnsRecordType.A, DnsRecordType.AAAA);
            case IPV6_PREFERRED -> List.of(DnsRecordType.AAAA, DnsRecordType.A);
        };
    }

    /**
     * Looks the name up once. The future never fails: a failed lookup completes with a {@link
     * Result} holding the {@link DnsResolutionException} naming the host and the DNS error.
     */
    CompletableFuture<Result> lookup() {
        CompletableFuture<Result> result = srv ? lookupSrv() : lookupAddresses();
        return result.exceptionally(
                failure -> Result.failed(new DnsResolutionException(host, DnsResolutionException.Kind.OTHER, failure)));
    }

    /** Closes the resolver: a query in flight is abandoned and its records released. */
    @Override
    public void close() {
        resolver.close();
    }

    private CompletableFuture<Result> lookupAddresses() {
        return addresses(host).thenApply(answer -> {
            if (answer.kind() != null) {
                return Result.failed(new DnsResolutionException(host, answer.kind(), answer.cause()));
            }
            Map<InetSocketAddress, DnsEndpoint> endpoints = new LinkedHashMap<>();
            for (InetAddress address : answer.addresses()) {
                InetSocketAddress key = new InetSocketAddress(address, port);
                endpoints.putIfAbsent(key, DnsEndpoint.of(key));
            }
            return new Result(endpoints, answer.minTtlSeconds(), null);
        });
    }

    // SRV: the service's records name targets and ports; each target's addresses are then resolved.
    // A transient failure anywhere fails the lookup (half an answer never replaces a whole one); a
    // target that does not resolve contributes nothing, as clients of SRV records do.
    private CompletableFuture<Result> lookupSrv() {
        return records(host, DnsRecordType.SRV, this::parseSrv).thenCompose(srvAnswer -> {
            if (srvAnswer.kind() != null) {
                return CompletableFuture.completedFuture(
                        Result.failed(new DnsResolutionException(host, srvAnswer.kind(), srvAnswer.cause())));
            }
            List<SrvTarget> targets = srvAnswer.values();
            List<CompletableFuture<Answer<InetAddress>>> resolved = new ArrayList<>(targets.size());
            for (SrvTarget target : targets) {
                resolved.add(addresses(target.name()));
            }
            return CompletableFuture.allOf(resolved.toArray(CompletableFuture<?>[]::new))
                    .thenApply(ignored -> {
                        Map<InetSocketAddress, DnsEndpoint> endpoints = new LinkedHashMap<>();
                        long minTtlSeconds = srvAnswer.minTtlSeconds();
                        Answer<InetAddress> transientFailure = null;
                        Answer<InetAddress> negative = null;
                        for (int i = 0; i < targets.size(); i++) {
                            SrvTarget target = targets.get(i);
                            Answer<InetAddress> answer = resolved.get(i).join();
                            if (answer.kind() == null) {
                                for (InetAddress address : answer.addresses()) {
                                    InetSocketAddress key = new InetSocketAddress(address, target.port());
                                    // The same address and port twice: the most preferred record wins.
                                    endpoints.merge(
                                            key,
                                            new DnsEndpoint(key, target.priority(), Math.max(1, target.weight())),
                                            (kept, other) -> kept.priority() <= other.priority() ? kept : other);
                                }
                                minTtlSeconds = Math.min(minTtlSeconds, answer.minTtlSeconds());
                            } else if (answer.isTransient()) {
                                transientFailure = transientFailure == null ? answer : transientFailure;
                            } else {
                                negative = negative == null ? answer : negative;
                            }
                        }
                        if (transientFailure != null) {
                            return Result.failed(new DnsResolutionException(
                                    host, Checks.notNull(transientFailure.kind(), "kind"), transientFailure.cause()));
                        }
                        if (endpoints.isEmpty()) {
                            return Result.failed(new DnsResolutionException(
                                    host,
                                    DnsResolutionException.Kind.NO_RECORDS,
                                    negative != null ? negative.cause() : null));
                        }
                        return new Result(endpoints, minTtlSeconds, null);
                    });
        });
    }

    /** The addresses of {@code name}, from every queried family, or the failure that counts. */
    private CompletableFuture<Answer<InetAddress>> addresses(String name) {
        List<CompletableFuture<Answer<InetAddress>>> answers = new ArrayList<>(types.size());
        for (DnsRecordType type : types) {
            answers.add(records(name, type, (record, raw) -> parseAddress(name, type, raw)));
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture<?>[]::new))
                .thenApply(ignored -> {
                    List<InetAddress> addresses = new ArrayList<>();
                    long minTtlSeconds = Long.MAX_VALUE;
                    Answer<InetAddress> transientFailure = null;
                    Answer<InetAddress> negative = null;
                    for (CompletableFuture<Answer<InetAddress>> future : answers) {
                        Answer<InetAddress> answer = future.join();
                        if (answer.kind() == null) {
                            addresses.addAll(answer.values());
                            minTtlSeconds = Math.min(minTtlSeconds, answer.minTtlSeconds());
                        } else if (answer.isTransient()) {
                            transientFailure = transientFailure == null ? answer : transientFailure;
                        } else if (negative == null || answer.kind() == DnsResolutionException.Kind.NXDOMAIN) {
                            negative = answer;
                        }
                    }
                    if (transientFailure != null) {
                        return transientFailure;
                    }
                    if (addresses.isEmpty()) {
                        // Non-null: with no addresses and no transient failure, some answer was negative.
                        return Checks.notNull(negative, "negative answer");
                    }
                    return new Answer<>(addresses, minTtlSeconds, null, null);
                });
    }

    /**
     * Queries {@code name} for {@code type} and parses each record of that type; records that parse
     * to null are skipped, and an answer with none left is {@code NO_RECORDS}.
     */
    private <T> CompletableFuture<Answer<T>> records(String name, DnsRecordType type, RecordParser<T> parser) {
        CompletableFuture<Answer<T>> answer = new CompletableFuture<>();
        Future<List<DnsRecord>> lookup;
        try {
            lookup = resolver.resolveAll(new DefaultDnsQuestion(name, type));
        } catch (RuntimeException e) {
            answer.complete(Answer.failed(classify(e), e));
            return answer;
        }
        lookup.addListener(done -> {
            if (!lookup.isSuccess()) {
                Throwable cause = lookup.cause();
                answer.complete(Answer.failed(classify(cause), cause));
                return;
            }
            List<DnsRecord> records = lookup.getNow();
            try {
                List<T> values = new ArrayList<>(records.size());
                long minTtlSeconds = Long.MAX_VALUE;
                for (DnsRecord record : records) {
                    if (!record.type().equals(type) || !(record instanceof DnsRawRecord raw)) {
                        continue;
                    }
                    T value = parser.parse(record, raw.content());
                    if (value != null) {
                        values.add(value);
                        minTtlSeconds = Math.min(minTtlSeconds, record.timeToLive());
                    }
                }
                answer.complete(
                        values.isEmpty()
                                ? Answer.failed(DnsResolutionException.Kind.NO_RECORDS, null)
                                : new Answer<>(values, minTtlSeconds, null, null));
            } catch (RuntimeException e) {
                answer.complete(Answer.failed(DnsResolutionException.Kind.OTHER, e));
            } finally {
                // The resolver hands us reference-counted records; we own them from here.
                for (DnsRecord record : records) {
                    ReferenceCountUtil.release(record);
                }
            }
        });
        return answer;
    }

    private @Nullable InetAddress parseAddress(String name, DnsRecordType type, ByteBuf content) {
        int length = type.equals(DnsRecordType.A) ? 4 : 16;
        byte[] bytes = ByteBufUtil.getBytes(content);
        if (bytes.length != length) {
            LOG.log(
                    System.Logger.Level.DEBUG,
                    () -> "ignoring a " + type.name() + " record of " + bytes.length + " bytes for " + name);
            return null;
        }
        try {
            // Keeps the host name on the address, for TLS server names and diagnostics.
            return InetAddress.getByAddress(stripDot(name), bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("unreachable: the length was checked", e);
        }
    }

    private @Nullable SrvTarget parseSrv(DnsRecord record, ByteBuf content) {
        if (content.readableBytes() < 7) {
            LOG.log(System.Logger.Level.DEBUG, () -> "ignoring a short SRV record for " + host);
            return null;
        }
        // A duplicate, so reading does not move the record's own indexes. The target name may use
        // compression pointers into the whole message, which the content buffer still holds.
        ByteBuf in = content.duplicate();
        int priority = in.readUnsignedShort();
        int weight = in.readUnsignedShort();
        int srvPort = in.readUnsignedShort();
        String target = DefaultDnsRecordDecoder.decodeName(in);
        if (srvPort == 0 || target.equals(".")) {
            // RFC 2782: a target of "." means the service is decidedly not available at this name.
            return null;
        }
        return new SrvTarget(target, srvPort, priority, weight);
    }

    static String stripDot(String name) {
        return name.endsWith(".") && name.length() > 1 ? name.substring(0, name.length() - 1) : name;
    }

    private static DnsResolutionException.Kind classify(@Nullable Throwable failure) {
        boolean unknownHost = false;
        int depth = 0;
        // Bounded, in case of a cause cycle.
        for (Throwable cause = failure; cause != null && depth < 16; cause = cause.getCause(), depth++) {
            if (cause instanceof DnsErrorCauseException dns) {
                DnsResponseCode code = dns.getCode();
                if (code.intValue() == DnsResponseCode.NXDOMAIN.intValue()) {
                    return DnsResolutionException.Kind.NXDOMAIN;
                }
                return code.intValue() == DnsResponseCode.SERVFAIL.intValue()
                        ? DnsResolutionException.Kind.SERVFAIL
                        : DnsResolutionException.Kind.OTHER;
            }
            if (cause instanceof DnsNameResolverTimeoutException) {
                return DnsResolutionException.Kind.TIMEOUT;
            }
            if (cause instanceof UnknownHostException) {
                unknownHost = true;
            }
        }
        // Netty reports "the server answered, but with nothing we asked for" as an UnknownHostException
        // with no DNS error or timeout behind it.
        return unknownHost ? DnsResolutionException.Kind.NO_RECORDS : DnsResolutionException.Kind.OTHER;
    }

    /** The outcome of one query: parsed values and their smallest TTL, or a failure. */
    private record Answer<T>(
            List<T> values,
            long minTtlSeconds,
            DnsResolutionException.@Nullable Kind kind,
            @Nullable Throwable cause) {

        static <T> Answer<T> failed(DnsResolutionException.Kind kind, @Nullable Throwable cause) {
            return new Answer<>(List.of(), Long.MAX_VALUE, kind, cause);
        }

        List<T> addresses() {
            return values;
        }

        boolean isTransient() {
            return kind == DnsResolutionException.Kind.SERVFAIL
                    || kind == DnsResolutionException.Kind.TIMEOUT
                    || kind == DnsResolutionException.Kind.OTHER;
        }
    }

    /** The outcome of one whole lookup: the endpoints and their smallest TTL, or the error. */
    record Result(
            Map<InetSocketAddress, DnsEndpoint> endpoints,
            long minTtlSeconds,
            @Nullable DnsResolutionException error) {
        static Result failed(DnsResolutionException error) {
            return new Result(Map.of(), Long.MAX_VALUE, error);
        }
    }

    /** One SRV record: where the service runs and how to prefer it. */
    private record SrvTarget(String name, int port, int priority, int weight) {}

    /** Parses one record's data; null skips the record. */
    @FunctionalInterface
    private interface RecordParser<T> {
        @Nullable
        T parse(DnsRecord record, ByteBuf content);
    }
}
