package dev.belfry.balance;

import dev.belfry.Checks;
import dev.belfry.Service;
import dev.belfry.load.Load;
import dev.belfry.load.Loaded;
import dev.belfry.time.Clock;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * How a balancer chooses among its endpoints. Each change of the endpoint set builds a new {@link
 * Picker} over the new, immutable endpoint list, so per-request picking needs no lock (except
 * smooth weighted round robin, whose state is inherently shared).
 */
abstract class Strategy<Req, Res> {

    /** Wraps a new endpoint's service in the load this strategy compares, or returns null. */
    @Nullable
    Loaded<Req, Res> measure(Service<Req, Res> service, Clock clock) {
        return null;
    }

    /** A picker over {@code endpoints}. */
    abstract Picker<Req, Res> picker(List<Endpoint<Req, Res>> endpoints);

    /** Chooses endpoints for one request and admits it on one of them, or returns null. */
    @FunctionalInterface
    interface Picker<Req, Res> {
        @Nullable
        CompletableFuture<Res> pick(Req request, Balancer<Req, Res> balancer, Balancer.@Nullable Pick pick);
    }

    /** Power of two random choices, least loaded first; of three endpoints, the least loaded of all. */
    static final class P2c<Req, Res> extends Strategy<Req, Res> {
        private final @Nullable Load<Req, Res> load;

        P2c(@Nullable Load<Req, Res> load) {
            this.load = load;
        }

        @Override
        Loaded<Req, Res> measure(Service<Req, Res> service, Clock clock) {
            Load<Req, Res> chosen = load != null ? load : Load.peakEwma(clock);
            return chosen.measure(service);
        }

        @Override
        Picker<Req, Res> picker(List<Endpoint<Req, Res>> endpoints) {
            int n = endpoints.size();
            return (request, balancer, pick) -> {
                if (n == 0) {
                    return null;
                }
                if (n == 1) {
                    return balancer.tryAdmit(endpoints.get(0), request, pick);
                }
                // Both choices come from the endpoints not avoided: were one of them avoided, the
                // other would be taken without being compared with anything, and a retry or a
                // hedge's backup would land on a slow endpoint as often as on a fast one.
                int[] allowed = pick != null && pick.avoidsAny() ? allowed(endpoints, pick) : null;
                int m = allowed == null ? n : allowed.length;
                if (m < 2) {
                    // One endpoint or none left: the scan admits on it if it can, and skips the avoided.
                    return balancer.scan(endpoints, allowed != null && m == 1 ? allowed[0] : 0, request, pick);
                }
                if (m == 3) {
                    return leastOfThree(endpoints, allowed, request, balancer, pick);
                }
                int i = balancer.random().nextInt(m);
                int j = balancer.random().nextInt(m - 1);
                if (j >= i) {
                    j++;
                }
                if (allowed != null) {
                    i = allowed[i];
                    j = allowed[j];
                }
                Endpoint<Req, Res> first = endpoints.get(i);
                Endpoint<Req, Res> second = endpoints.get(j);
                long now = balancer.now();
                if (cost(second, balancer, now) < cost(first, balancer, now)) {
                    Endpoint<Req, Res> swap = first;
                    first = second;
                    second = swap;
                }
                CompletableFuture<Res> admitted = balancer.tryAdmit(first, request, pick);
                if (admitted == null) {
                    admitted = balancer.tryAdmit(second, request, pick);
                }
                // Both choices busy: any endpoint that can admit beats waiting.
                return admitted != null ? admitted : balancer.scan(endpoints, i, request, pick, first, second);
            };
        }

        /**
         * Of three candidates, the least loaded, then the next: comparing all three costs no more
         * than drawing two, while a random pair of three holds the worst endpoint two times in three
         * and hands it the request whenever the other one of the pair is busier (a slow member of a
         * warm channel's three then keeps a share of the calls whenever the two fast ones differ).
         * Ties go to a random one, so equal endpoints share evenly.
         */
        private @Nullable CompletableFuture<Res> leastOfThree(
                List<Endpoint<Req, Res>> endpoints,
                int @Nullable [] allowed,
                Req request,
                Balancer<Req, Res> balancer,
                Balancer.@Nullable Pick pick) {
            int start = balancer.random().nextInt(3);
            long now = balancer.now();
            Endpoint<Req, Res> first = endpoints.get(allowed == null ? start : allowed[start]);
            int i = (start + 1) % 3;
            Endpoint<Req, Res> second = endpoints.get(allowed == null ? i : allowed[i]);
            i = (start + 2) % 3;
            Endpoint<Req, Res> third = endpoints.get(allowed == null ? i : allowed[i]);
            double c1 = cost(first, balancer, now);
            double c2 = cost(second, balancer, now);
            double c3 = cost(third, balancer, now);
            // Ordered by cost with no allocation on this per-request path; an equal cost stays
            // behind, so the random start breaks ties.
            if (c2 < c1) {
                Endpoint<Req, Res> e = first;
                first = second;
                second = e;
                double c = c1;
                c1 = c2;
                c2 = c;
            }
            if (c3 < c2) {
                Endpoint<Req, Res> e = second;
                second = third;
                third = e;
                c2 = c3;
                if (c2 < c1) {
                    e = first;
                    first = second;
                    second = e;
                }
            }
            CompletableFuture<Res> admitted = balancer.tryAdmit(first, request, pick);
            if (admitted == null) {
                admitted = balancer.tryAdmit(second, request, pick);
            }
            if (admitted == null) {
                admitted = balancer.tryAdmit(third, request, pick);
            }
            return admitted;
        }

        /** The indexes of the endpoints {@code pick} does not avoid. */
        private static <Req, Res> int[] allowed(List<Endpoint<Req, Res>> endpoints, Balancer.Pick pick) {
            int[] indexes = new int[endpoints.size()];
            int m = 0;
            for (int k = 0; k < endpoints.size(); k++) {
                if (!pick.avoids(endpoints.get(k))) {
                    indexes[m++] = k;
                }
            }
            return Arrays.copyOf(indexes, m);
        }

        private double cost(Endpoint<Req, Res> endpoint, Balancer<Req, Res> balancer, long now) {
            // A slow-starting endpoint looks proportionally more loaded; weights divide the same way.
            return Checks.notNull(endpoint.loaded, "load").load() / balancer.share(endpoint, now);
        }
    }

    /** Each endpoint in turn, skipping those that cannot admit. */
    static final class RoundRobin<Req, Res> extends Strategy<Req, Res> {
        private final AtomicInteger next = new AtomicInteger();

        @Override
        Picker<Req, Res> picker(List<Endpoint<Req, Res>> endpoints) {
            int n = endpoints.size();
            return (request, balancer, pick) ->
                    n == 0 ? null : balancer.scan(endpoints, Math.floorMod(next.getAndIncrement(), n), request, pick);
        }
    }

    /** Nginx's smooth weighted round robin: weighted, and interleaved rather than bursty. */
    static final class SmoothWeighted<Req, Res> extends Strategy<Req, Res> {
        @Override
        Picker<Req, Res> picker(List<Endpoint<Req, Res>> endpoints) {
            int n = endpoints.size();
            double[] current = new double[n];
            return (request, balancer, pick) -> {
                if (n == 0) {
                    return null;
                }
                long now = balancer.now();
                int chosen = 0;
                // The only lock on a request path in this package: the running weights are shared state.
                synchronized (current) {
                    double total = 0;
                    for (int k = 0; k < n; k++) {
                        double weight = endpoints.get(k).weight * balancer.share(endpoints.get(k), now);
                        current[k] += weight;
                        total += weight;
                        if (current[k] > current[chosen]) {
                            chosen = k;
                        }
                    }
                    current[chosen] -= total;
                }
                return balancer.scan(endpoints, chosen, request, pick);
            };
        }
    }

    /** A random endpoint with probability proportional to its weight. */
    static final class WeightedRandom<Req, Res> extends Strategy<Req, Res> {
        private static final int ATTEMPTS = 4;

        @Override
        Picker<Req, Res> picker(List<Endpoint<Req, Res>> endpoints) {
            int n = endpoints.size();
            return (request, balancer, pick) -> {
                if (n == 0) {
                    return null;
                }
                long now = balancer.now();
                double total = 0;
                for (Endpoint<Req, Res> endpoint : endpoints) {
                    total += endpoint.weight * balancer.share(endpoint, now);
                }
                int index = 0;
                // Re-drawing when the drawn endpoint cannot admit keeps the ready ones in proportion.
                for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                    double target = balancer.random().nextDouble(total);
                    index = n - 1;
                    for (int k = 0; k < n; k++) {
                        target -= endpoints.get(k).weight * balancer.share(endpoints.get(k), now);
                        if (target < 0) {
                            index = k;
                            break;
                        }
                    }
                    CompletableFuture<Res> admitted = balancer.tryAdmit(endpoints.get(index), request, pick);
                    if (admitted != null) {
                        return admitted;
                    }
                }
                return balancer.scan(endpoints, index, request, pick);
            };
        }
    }

    /** The endpoint with the fewest requests in flight per unit of weight; ties broken at random. */
    static final class LeastConnections<Req, Res> extends Strategy<Req, Res> {
        @Override
        Picker<Req, Res> picker(List<Endpoint<Req, Res>> endpoints) {
            int n = endpoints.size();
            return (request, balancer, pick) -> {
                if (n == 0) {
                    return null;
                }
                long now = balancer.now();
                int start = balancer.random().nextInt(n);
                Endpoint<Req, Res> best = null;
                double bestScore = Double.POSITIVE_INFINITY;
                for (int k = 0; k < n; k++) {
                    Endpoint<Req, Res> endpoint = endpoints.get((start + k) % n);
                    if (endpoint.service.readiness() != dev.belfry.Readiness.READY
                            || (pick != null && pick.avoids(endpoint))) {
                        continue;
                    }
                    double score = (endpoint.inflight.get() + 1) / (endpoint.weight * balancer.share(endpoint, now));
                    if (score < bestScore) {
                        best = endpoint;
                        bestScore = score;
                    }
                }
                if (best != null) {
                    CompletableFuture<Res> admitted = balancer.tryAdmit(best, request, pick);
                    if (admitted != null) {
                        return admitted;
                    }
                }
                return balancer.scan(endpoints, start, request, pick, best, null);
            };
        }
    }

    /**
     * Consistent hashing on a ring of virtual nodes (100 per unit of weight, scaled down in proportion
     * when the ring would pass {@value #MAX_RING_POINTS} points), with bounded load: an
     * endpoint with more than {@code loadFactor} times the average in flight passes the request on
     * to the next endpoint on the ring.
     */
    static final class ConsistentHash<Req, Res> extends Strategy<Req, Res> {
        static final int POINTS_PER_WEIGHT = 100;
        /**
         * The most points a ring holds (1 MiB of entries): past it, every endpoint's share is scaled
         * down in proportion to its weight, keeping at least one point each.
         */
        static final int MAX_RING_POINTS = 1 << 17;

        private final Function<? super Req, ?> key;
        private final double loadFactor;

        ConsistentHash(Function<? super Req, ?> key, double loadFactor) {
            this.key = Checks.notNull(key, "key");
            this.loadFactor = loadFactor;
        }

        /** Each endpoint's number of points on a ring over {@code endpoints}, bounded as a whole. */
        static int[] points(List<? extends Endpoint<?, ?>> endpoints) {
            long totalWeight = 0;
            for (Endpoint<?, ?> endpoint : endpoints) {
                totalWeight += endpoint.weight;
            }
            boolean scaled = totalWeight * POINTS_PER_WEIGHT > MAX_RING_POINTS;
            int[] points = new int[endpoints.size()];
            for (int i = 0; i < points.length; i++) {
                long weight = endpoints.get(i).weight;
                points[i] = scaled
                        ? (int) Math.max(1, weight * MAX_RING_POINTS / totalWeight)
                        : (int) weight * POINTS_PER_WEIGHT;
            }
            return points;
        }

        @Override
        Picker<Req, Res> picker(List<Endpoint<Req, Res>> endpoints) {
            int n = endpoints.size();
            int[] counts = points(endpoints);
            int points = 0;
            for (int count : counts) {
                points += count;
            }
            long[] entries = new long[points];
            int p = 0;
            for (int index = 0; index < n; index++) {
                Endpoint<Req, Res> endpoint = endpoints.get(index);
                // A point's place depends only on the endpoint's own key: others joining or leaving
                // never move it, so only the keys on the changed endpoint's arcs move.
                long base = hash(String.valueOf(endpoint.key).getBytes(StandardCharsets.UTF_8));
                for (int v = 0; v < counts[index]; v++) {
                    entries[p++] = (mix(base + v * 0x9E3779B97F4A7C15L) & ~0xFFFFL) | index;
                }
            }
            // The low 16 bits of each entry carry the endpoint index; the sort order is the ring.
            Arrays.sort(entries);
            return (request, balancer, pick) -> {
                if (n == 0) {
                    return null;
                }
                long h = mix(hashOf(key.apply(request))) & ~0xFFFFL;
                int start = Arrays.binarySearch(entries, h);
                start = start >= 0 ? start : -start - 1;
                int total = 0;
                for (Endpoint<Req, Res> endpoint : endpoints) {
                    total += endpoint.inflight.get();
                }
                double bound = Math.ceil(loadFactor * (total + 1) / n);
                boolean[] tried = new boolean[n];
                int left = n;
                for (int k = 0; k < entries.length && left > 0; k++) {
                    int index = (int) (entries[(start + k) % entries.length] & 0xFFFFL);
                    if (tried[index]) {
                        continue;
                    }
                    tried[index] = true;
                    left--;
                    Endpoint<Req, Res> endpoint = endpoints.get(index);
                    if (endpoint.inflight.get() + 1 > bound) {
                        continue;
                    }
                    CompletableFuture<Res> admitted = balancer.tryAdmit(endpoint, request, pick);
                    if (admitted != null) {
                        return admitted;
                    }
                }
                return null;
            };
        }

        private static long hashOf(@Nullable Object value) {
            if (value == null) {
                return 0;
            }
            if (value instanceof CharSequence text) {
                return hash(text.toString().getBytes(StandardCharsets.UTF_8));
            }
            return value.hashCode();
        }

        /** FNV-1a, 64-bit: stable across runs and JVMs, unlike some hashCodes. */
        private static long hash(byte[] bytes) {
            long h = 0xcbf29ce484222325L;
            for (byte b : bytes) {
                h ^= b & 0xff;
                h *= 0x100000001b3L;
            }
            return h;
        }

        /** The SplitMix64 finaliser: spreads nearby inputs over the whole ring. */
        private static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }
    }
}
