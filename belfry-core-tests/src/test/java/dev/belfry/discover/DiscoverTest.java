package dev.belfry.discover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DiscoverTest {

    @Test
    void aStaticSourceDeliversItsEndpointsAsInsertsInOrder() {
        Map<String, Integer> endpoints = new LinkedHashMap<>();
        endpoints.put("b", 2);
        endpoints.put("a", 1);
        List<Change<String, Integer>> seen = new ArrayList<>();
        Discover.of(endpoints).subscribe(seen::add);
        assertThat(seen).containsExactly(new Change.Insert<>("b", 2), new Change.Insert<>("a", 1));
    }

    @Test
    void aStaticSourceRejectsAnEmptySetNamingTheSetting() {
        assertThatThrownBy(() -> Discover.of(Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("endpoints must not be empty");
    }

    @Test
    void aNewSubscriberGetsTheCurrentSetThenLaterChanges() {
        DiscoverSource<String, Integer> source = DiscoverSource.create();
        source.put("a", 1);
        source.put("b", 2);
        List<Change<String, Integer>> seen = new ArrayList<>();
        source.subscribe(seen::add);
        source.put("c", 3);
        source.put("a", 10);
        source.remove("b");
        assertThat(seen)
                .containsExactly(
                        new Change.Insert<>("a", 1),
                        new Change.Insert<>("b", 2),
                        new Change.Insert<>("c", 3),
                        new Change.Update<>("a", 10),
                        new Change.Remove<>("b"));
        assertThat(source.snapshot()).containsExactly(Map.entry("a", 10), Map.entry("c", 3));
    }

    @Test
    void onlyDifferencesAreEmitted() {
        DiscoverSource<String, Integer> source = DiscoverSource.create();
        List<Change<String, Integer>> seen = new ArrayList<>();
        source.subscribe(seen::add);
        assertThat(source.put("a", 1)).isTrue();
        assertThat(source.put("a", 1)).as("same value again").isFalse();
        assertThat(source.remove("missing")).isFalse();
        assertThat(seen).containsExactly(new Change.Insert<>("a", 1));
    }

    @Test
    void replaceAllEmitsRemovesThenUpdatesAndInserts() {
        DiscoverSource<String, Integer> source = DiscoverSource.create();
        source.replaceAll(Map.of("a", 1, "b", 2, "c", 3));
        List<Change<String, Integer>> seen = new ArrayList<>();
        source.subscribe(seen::add);
        seen.clear();
        Map<String, Integer> next = new LinkedHashMap<>();
        next.put("a", 1);
        next.put("b", 20);
        next.put("d", 4);
        assertThat(source.replaceAll(next)).isEqualTo(3);
        assertThat(seen)
                .containsExactly(new Change.Remove<>("c"), new Change.Update<>("b", 20), new Change.Insert<>("d", 4));
        assertThat(source.replaceAll(next)).as("nothing differs").isZero();
        assertThat(seen).hasSize(3);
    }

    @Test
    void aClosedSubscriptionReceivesNothingMore() {
        DiscoverSource<String, Integer> source = DiscoverSource.create();
        List<Change<String, Integer>> seen = new ArrayList<>();
        Discover.Subscription subscription = source.subscribe(seen::add);
        source.put("a", 1);
        subscription.close();
        subscription.close();
        source.put("b", 2);
        assertThat(seen).containsExactly(new Change.Insert<>("a", 1));
    }

    @Test
    void aListenerThatChangesTheSourceSeesItsChangeAfterTheCurrentOneNotInsideIt() {
        DiscoverSource<String, Integer> source = DiscoverSource.create();
        List<String> log = new ArrayList<>();
        source.subscribe(change -> {
            log.add("start " + change.key());
            if (change.key().equals("a")) {
                source.put("b", 2);
            }
            log.add("end " + change.key());
        });
        source.put("a", 1);
        assertThat(log).containsExactly("start a", "end a", "start b", "end b");
    }

    @Test
    void aListenerThatThrowsKeepsReceivingChanges() {
        DiscoverSource<String, Integer> source = DiscoverSource.create();
        List<String> keys = new ArrayList<>();
        source.subscribe(change -> {
            keys.add(change.key());
            throw new IllegalStateException("listener broke");
        });
        source.put("a", 1);
        source.put("b", 2);
        assertThat(keys).containsExactly("a", "b");
    }

    @Test
    void mapTransformsInsertsAndUpdatesPerSubscriber() {
        DiscoverSource<String, Integer> source = DiscoverSource.create();
        AtomicInteger made = new AtomicInteger();
        Discover<String, String> mapped = source.map((key, value) -> {
            made.incrementAndGet();
            return key + "=" + value;
        });
        source.put("a", 1);
        List<Change<String, String>> first = new ArrayList<>();
        List<Change<String, String>> second = new ArrayList<>();
        mapped.subscribe(first::add);
        mapped.subscribe(second::add);
        source.put("a", 2);
        source.remove("a");
        assertThat(first)
                .containsExactly(
                        new Change.Insert<>("a", "a=1"), new Change.Update<>("a", "a=2"), new Change.Remove<>("a"));
        assertThat(second).isEqualTo(first);
        assertThat(made).as("values are mapped once per subscriber").hasValue(4);
    }

    @Test
    void rejectsNullKeysAndValuesNamingThem() {
        DiscoverSource<String, Integer> source = DiscoverSource.create();
        assertThatThrownBy(() -> source.put(null, 1)).hasMessage("key must not be null");
        assertThatThrownBy(() -> source.put("a", null)).hasMessage("value must not be null");
    }

    @Test
    void concurrentChangesAreDeliveredInOneOrderAndNeverConcurrently() throws Exception {
        DiscoverSource<Integer, Integer> source = DiscoverSource.create();
        AtomicBoolean inside = new AtomicBoolean();
        AtomicInteger overlaps = new AtomicInteger();
        List<Change<Integer, Integer>> first = new ArrayList<>();
        List<Change<Integer, Integer>> second = new ArrayList<>();
        source.subscribe(change -> {
            if (!inside.compareAndSet(false, true)) {
                overlaps.incrementAndGet();
            }
            first.add(change);
            inside.set(false);
        });
        source.subscribe(second::add);
        int threads = 4;
        int perThread = 2_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * perThread;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        source.put(base + i % 50, i);
                        if (i % 3 == 0) {
                            source.remove(base + (i + 7) % 50);
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> future : done) {
                future.get(Duration.ofSeconds(30).toSeconds(), TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(overlaps).hasValue(0);
        assertThat(first).hasSizeGreaterThan(threads * perThread / 2).isEqualTo(second);
    }
}
