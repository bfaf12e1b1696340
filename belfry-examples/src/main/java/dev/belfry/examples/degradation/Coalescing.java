package dev.belfry.examples.degradation;

import com.zaxxer.hikari.HikariDataSource;
import dev.belfry.examples.users.Main;
import dev.belfry.examples.users.User;
import dev.belfry.examples.users.UserStore;
import dev.belfry.examples.users.UsersApi;
import dev.belfry.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * The coalescing figure: {@code readers} concurrent readers of one id, each reading again as soon
 * as it has its answer, for a while; how many reads they made and how many queries reached the
 * database, in three set-ups: every read a query; reads coalesced (concurrent reads of the id share
 * one query) but not cached; coalesced and cached for {@link UsersApi#CACHE_FOR}.
 *
 * <p>{@code bin/belfry-example coalescing [readers [seconds]]} (200 readers, 5 s) prints the
 * figures. A harness: it reads real time.
 */
public final class Coalescing {
    private Coalescing() {}

    /** One set-up's figures. */
    public record Row(String setup, long reads, long queries, Duration took) {
        public double readsPerSecond() {
            return reads / (took.toNanos() / 1e9);
        }

        public double queriesPerSecond() {
            return queries / (took.toNanos() / 1e9);
        }
    }

    public static void main(String[] args) throws Exception {
        int readers = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        Duration each = Duration.ofSeconds(args.length > 1 ? Long.parseLong(args[1]) : 5);
        System.out.printf(
                Locale.ROOT, "coalescing: %d concurrent readers of one id, %d s each%n", readers, each.toSeconds());
        try (RestartableDatabase database = RestartableDatabase.start();
                HikariDataSource pool = Main.pool(database.jdbcUrl())) {
            print(run(pool, readers, each));
        }
    }

    /** Prints the rows as a table. */
    public static void print(List<Row> rows) {
        System.out.printf(Locale.ROOT, "%-34s %12s %12s%n", "set-up", "reads/s", "queries/s");
        for (Row row : rows) {
            System.out.printf(
                    Locale.ROOT, "%-34s %12.0f %12.1f%n", row.setup(), row.readsPerSecond(), row.queriesPerSecond());
        }
    }

    /** Measures the three set-ups on {@code pool}, {@code duration} each. */
    public static List<Row> run(HikariDataSource pool, int readers, Duration duration) throws Exception {
        UserStore store = new UserStore(pool);
        store.migrate();
        User user = store.create("Coalesced", "coalesced-" + System.nanoTime() + "@example.com");
        List<Row> rows = new ArrayList<>();
        try (UsersApi plain = new UsersApi(store, Clock.system(), Duration.ZERO)) {
            rows.add(measure(
                    "no coalescing (a query per read)", store, readers, duration, plain::findUncached, user.id()));
            rows.add(measure("coalesced, not cached", store, readers, duration, plain::find, user.id()));
        }
        try (UsersApi cached = new UsersApi(store, Clock.system())) {
            rows.add(measure(
                    "coalesced, cached " + UsersApi.CACHE_FOR.toSeconds() + " s",
                    store,
                    readers,
                    duration,
                    cached::find,
                    user.id()));
        }
        return rows;
    }

    private static Row measure(
            String setup,
            UserStore store,
            int readers,
            Duration duration,
            LongFunction<CompletableFuture<Optional<User>>> read,
            long id)
            throws InterruptedException {
        AtomicLong reads = new AtomicLong();
        long queriesBefore = store.queries();
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < readers; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (System.nanoTime() < end) {
                    Optional<User> found = read.apply(id).join();
                    if (found.isEmpty()) {
                        throw new IllegalStateException("user " + id + " is missing");
                    }
                    reads.incrementAndGet();
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        return new Row(
                setup, reads.get(), store.queries() - queriesBefore, Duration.ofNanos(System.nanoTime() - start));
    }
}
