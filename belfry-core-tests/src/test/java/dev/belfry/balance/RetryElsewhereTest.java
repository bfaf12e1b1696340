package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.OverloadedException;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.discover.Discover;
import dev.belfry.retry.RetryBudget;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class RetryElsewhereTest extends LayerContractTest {
    private static final Duration MAX_WAIT = Duration.ofMillis(500);

    private final MockService<String, String> a = MockService.create();
    private final MockService<String, String> b = MockService.create();
    private final MockService<String, String> c = MockService.create();

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return RetryElsewhere.builder(balancer(Map.of("only", inner)), RetryBudget.of(clock))
                .build();
    }

    private Balancer<String, String> balancer(Map<String, Service<String, String>> endpoints) {
        return Balancer.builder(Discover.of(endpoints))
                .roundRobin()
                .clock(clock)
                .random(new SplittableRandom(42))
                .maxWait(MAX_WAIT)
                .build();
    }

    private Balancer<String, String> abc() {
        Map<String, Service<String, String>> endpoints = new LinkedHashMap<>();
        endpoints.put("a", a);
        endpoints.put("b", b);
        endpoints.put("c", c);
        return balancer(endpoints);
    }

    private RetryElsewhere<String, String> retry(Balancer<String, String> balancer, int maxRetries) {
        return RetryElsewhere.builder(balancer, RetryBudget.of(clock))
                .maxRetries(maxRetries)
                .build();
    }

    private final Map<String, Integer> taken = new HashMap<>();

    /** An untaken request on one of a, b, c, with that endpoint's name. */
    private record Held(String endpoint, MockService.Pending<String, String> pending) {}

    /** Takes every request a, b and c were sent and the test has not taken yet. */
    private List<Held> pendingOn(List<String> names) {
        List<Held> found = new ArrayList<>();
        for (String name : names) {
            MockService<String, String> service = switch (name) {
                case "a" -> a;
                case "b" -> b;
                default -> c;
            };
            while (service.handle().admitted() > taken.getOrDefault(name, 0)) {
                taken.merge(name, 1, Integer::sum);
                found.add(new Held(name, service.handle().next()));
            }
        }
        return found;
    }

    private Held onlyPending() {
        List<Held> found = pendingOn(List.of("a", "b", "c"));
        assertThat(found).hasSize(1);
        return found.get(0);
    }

    @Test
    void retriesAnUnprocessedFailureOnEveryOtherEndpointBeforeAnyRepeat() {
        RetryElsewhere<String, String> retry = retry(abc(), 2);
        CompletableFuture<String> result = retry.call("req");
        List<String> order = new ArrayList<>();
        OverloadedException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            Held held = onlyPending();
            assertThat(held.pending().request()).isEqualTo("req");
            order.add(held.endpoint());
            last = new OverloadedException("full " + attempt);
            held.pending().fail(last);
        }
        assertThat(order).as("three attempts, three endpoints").containsExactlyInAnyOrder("a", "b", "c");
        assertThat(failureOf(result)).as("the last real outcome, unwrapped").isSameAs(last);
        assertThat(pendingOn(List.of("a", "b", "c"))).isEmpty();
    }

    @Test
    void answersWithTheResponseOfTheEndpointThatSucceeds() {
        RetryElsewhere<String, String> retry = retry(abc(), 2);
        CompletableFuture<String> result = retry.call("req");
        Held first = onlyPending();
        first.pending().fail(new ServiceClosedException("gone"));
        Held second = onlyPending();
        assertThat(second.endpoint()).isNotEqualTo(first.endpoint());
        second.pending().respond("fine");
        assertThat(result).isCompletedWithValue("fine");
    }

    @Test
    void neverRetriesAFailureThatMayHaveBeenProcessed() {
        RetryElsewhere<String, String> retry = retry(abc(), 2);
        CompletableFuture<String> result = retry.call("req");
        IllegalStateException processed = new IllegalStateException("reset after the request was sent");
        onlyPending().pending().fail(processed);
        assertThat(failureOf(result)).isSameAs(processed);
        assertThat(pendingOn(List.of("a", "b", "c"))).isEmpty();
    }

    @Test
    void aPredicateChoosesWhatIsRetried() {
        RetryElsewhere<String, String> retry = RetryElsewhere.builder(abc(), RetryBudget.of(clock))
                .retryIf(failure -> failure instanceof IllegalStateException)
                .build();
        CompletableFuture<String> result = retry.call("req");
        onlyPending().pending().fail(new IllegalStateException("refused"));
        OverloadedException notRetried = new OverloadedException("full");
        onlyPending().pending().fail(notRetried);
        assertThat(failureOf(result)).isSameAs(notRetried);
        assertThat(pendingOn(List.of("a", "b", "c"))).isEmpty();
    }

    @Test
    void stopsWhenTheBudgetIsSpent() {
        RetryBudget empty = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(0)
                .clock(clock)
                .build();
        RetryElsewhere<String, String> retry =
                RetryElsewhere.builder(abc(), empty).maxRetries(2).build();
        CompletableFuture<String> result = retry.call("req");
        OverloadedException full = new OverloadedException("full");
        onlyPending().pending().fail(full);
        assertThat(failureOf(result)).isSameAs(full);
        assertThat(pendingOn(List.of("a", "b", "c"))).isEmpty();
    }

    @Test
    void repeatsOnATriedEndpointWhenItIsTheOnlyOneThatCanAdmit() {
        b.handle().allow(0);
        Map<String, Service<String, String>> endpoints = new LinkedHashMap<>();
        endpoints.put("a", a);
        endpoints.put("b", b);
        RetryElsewhere<String, String> retry = retry(balancer(endpoints), 1);
        CompletableFuture<String> result = retry.call("req");
        a.handle().next().fail(new OverloadedException("full"));
        assertThat(a.handle().respondNext("second time lucky")).isEqualTo("req");
        assertThat(result).isCompletedWithValue("second time lucky");
        b.handle().assertNoMoreRequests();
    }

    @Test
    void aRetryWaitsForAnEndpointWhenNoneCanAdmitNow() {
        a.handle().allow(1);
        b.handle().allow(0);
        Map<String, Service<String, String>> endpoints = new LinkedHashMap<>();
        endpoints.put("a", a);
        endpoints.put("b", b);
        RetryElsewhere<String, String> retry = retry(balancer(endpoints), 1);
        CompletableFuture<String> result = retry.call("req");
        a.handle().next().fail(new OverloadedException("full"));
        assertThat(result).isNotDone();
        b.handle().allow(1);
        assertThat(b.handle().respondNext("B")).isEqualTo("req");
        assertThat(result).isCompletedWithValue("B");
    }

    @Test
    void aRetryThatFindsNoEndpointFailsAfterTheBalancersWait() {
        a.handle().allow(1);
        Map<String, Service<String, String>> endpoints = new LinkedHashMap<>();
        endpoints.put("a", a);
        RetryElsewhere<String, String> retry = retry(balancer(endpoints), 1);
        CompletableFuture<String> result = retry.call("req");
        a.handle().next().fail(new OverloadedException("full"));
        clock.advance(MAX_WAIT.minusNanos(1));
        assertThat(result).isNotDone();
        clock.advance(Duration.ofNanos(1));
        assertThat(failureOf(result)).isInstanceOf(NoEndpointsException.class);
    }

    @Test
    void cancellingWithdrawsARetryWaitingForAnEndpoint() {
        a.handle().allow(1);
        b.handle().allow(0);
        Map<String, Service<String, String>> endpoints = new LinkedHashMap<>();
        endpoints.put("a", a);
        endpoints.put("b", b);
        RetryElsewhere<String, String> retry = retry(balancer(endpoints), 1);
        CompletableFuture<String> result = retry.call("req");
        a.handle().next().fail(new OverloadedException("full"));
        result.cancel(false);
        b.handle().allow(1);
        b.handle().assertNoMoreRequests();
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void cancellingCancelsTheAttemptInFlight() {
        RetryElsewhere<String, String> retry = retry(abc(), 2);
        CompletableFuture<String> result = retry.call("req");
        onlyPending().pending().fail(new OverloadedException("full"));
        MockService.Pending<String, String> second = onlyPending().pending();
        result.cancel(false);
        assertThat(second.isCancelled()).isTrue();
        assertThat(pendingOn(List.of("a", "b", "c"))).isEmpty();
    }

    @Test
    void tryCallIsExactAndDepositsNothingWhenRefused() {
        a.handle().allow(0);
        Map<String, Service<String, String>> endpoints = new LinkedHashMap<>();
        endpoints.put("a", a);
        RetryBudget budget = RetryBudget.builder()
                .minRetriesPerSecond(0)
                .retryRatio(1)
                .clock(clock)
                .build();
        RetryElsewhere<String, String> retry =
                RetryElsewhere.builder(balancer(endpoints), budget).build();
        assertThat(retry.tryCall("req")).isNull();
        assertThat(budget.remaining()).isZero();
        a.handle().allow(1);
        CompletableFuture<String> admitted = retry.tryCall("req");
        assertThat(admitted).isNotNull();
        assertThat(budget.remaining()).isEqualTo(1);
        a.handle().respondNext("A");
        assertThat(admitted).isCompletedWithValue("A");
    }

    @Test
    void settingsAreCheckedAndSetOnce() {
        RetryElsewhere.Builder<String, String> builder =
                RetryElsewhere.builder(abc(), RetryBudget.of(clock)).maxRetries(1);
        assertThatThrownBy(() -> builder.maxRetries(2)).hasMessageContaining("maxRetries");
        assertThatThrownBy(() ->
                        RetryElsewhere.builder(abc(), RetryBudget.of(clock)).maxRetries(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxRetries");
    }
}
