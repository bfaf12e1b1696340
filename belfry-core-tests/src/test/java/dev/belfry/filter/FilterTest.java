package dev.belfry.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.ServiceException;
import dev.belfry.UnprocessedException;
import dev.belfry.builder.ServiceBuilder;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FilterTest extends LayerContractTest {
    private final MockService<Integer, String> numbers = MockService.create();

    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return FilterLayer.<String, String, String>of(request -> request).wrap(inner);
    }

    @Test
    void forwardsTheRewrittenRequest() {
        Service<String, String> service =
                FilterLayer.<String, String, String>of(request -> request + "!").wrap(inner);
        CompletableFuture<String> result = service.call("ping");
        assertThat(inner.handle().respondNext("pong")).isEqualTo("ping!");
        assertThat(result).isCompletedWithValue("pong");
    }

    @Test
    void mayChangeTheRequestType() {
        Service<String, String> service =
                FilterLayer.<String, Integer, String>of(Integer::parseInt).wrap(numbers);
        CompletableFuture<String> result = service.call("42");
        assertThat(numbers.handle().respondNext("answer")).isEqualTo(42);
        assertThat(result).isCompletedWithValue("answer");
    }

    @Test
    void aRejectionNeverReachesInnerAndIsTheFailureUnchanged() {
        RejectedException rejection = new RejectedException("missing token");
        Service<String, String> service = FilterLayer.<String, String, String>of(request -> {
                    throw rejection;
                })
                .wrap(inner);
        CompletableFuture<String> result = service.call("ping");
        assertThat(failureOf(result)).isSameAs(rejection).hasMessage("missing token");
        inner.handle().assertNoMoreRequests();
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void aCheckedExceptionFromTheFilterIsTheFailureUnchanged() {
        IOException rejection = new IOException("lookup failed");
        Service<String, String> service = FilterLayer.<String, String, String>of(request -> {
                    throw rejection;
                })
                .wrap(inner);
        assertThat(failureOf(service.call("ping"))).isSameAs(rejection);
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void anInterruptedFilterFailsTheCallAndKeepsTheInterruptStatus() {
        InterruptedException interrupted = new InterruptedException("stop");
        Service<String, String> service = FilterLayer.<String, String, String>of(request -> {
                    throw interrupted;
                })
                .wrap(inner);
        CompletableFuture<String> result = service.call("ping");
        // Thread.interrupted() also clears the status, so the next test starts clean.
        assertThat(Thread.interrupted()).as("interrupt status restored").isTrue();
        assertThat(failureOf(result)).isSameAs(interrupted);
    }

    @Test
    void tryCallAnswersARejectionWithAFailedFutureEvenWhenInnerIsBusy() {
        RejectedException rejection = new RejectedException("no");
        Service<String, String> service = FilterLayer.<String, String, String>of(request -> {
                    throw rejection;
                })
                .wrap(inner);
        inner.handle().allow(0);
        CompletableFuture<String> result = service.tryCall("ping");
        assertThat(result).isNotNull();
        assertThat(failureOf(result)).isSameAs(rejection);
        assertThat(inner.handle().admitted()).isZero();
    }

    @Test
    void tryCallOffersTheRewrittenRequestToTheInnerTryCall() {
        AtomicInteger checks = new AtomicInteger();
        Service<String, String> service = FilterLayer.<String, String, String>of(request -> {
                    checks.incrementAndGet();
                    return request + "!";
                })
                .wrap(inner);
        inner.handle().allow(0);
        assertThat(service.tryCall("busy")).isNull();
        assertThat(checks).as("the check ran before the inner tryCall declined").hasValue(1);

        inner.handle().allow(1);
        CompletableFuture<String> result = service.tryCall("free");
        assertThat(inner.handle().respondNext("pong")).isEqualTo("free!");
        assertThat(result).isCompletedWithValue("pong");
        assertThat(inner.handle().admitted()).isEqualTo(1);
    }

    @Test
    void rejectedExceptionIsAServiceExceptionThatIsNotSafeToRepeat() {
        RejectedException rejection = new RejectedException("quota exceeded");
        assertThat(rejection).isInstanceOf(ServiceException.class).isNotInstanceOf(UnprocessedException.class);
        assertThat(Futures.isUnprocessed(rejection)).isFalse();
        assertThat(rejection).hasMessage("quota exceeded");
    }

    @Test
    void composesThroughTheBuilder() {
        Service<String, String> service = ServiceBuilder.<String, String>builder()
                .layer(FilterLayer.<String, String, String>of(request -> {
                    if (request.isEmpty()) {
                        throw new RejectedException("empty request");
                    }
                    return request.trim();
                }))
                .service(inner);
        assertThat(failureOf(service.call(""))).isInstanceOf(RejectedException.class);
        CompletableFuture<String> result = service.call("  padded ");
        assertThat(inner.handle().respondNext("ok")).isEqualTo("padded");
        assertThat(result).isCompletedWithValue("ok");
    }

    @Test
    void rejectsNullArgumentsNamingThem() {
        assertThatThrownBy(() -> FilterLayer.of(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("filter must not be null");
        assertThatThrownBy(() -> new Filter<String, String, String>(null, request -> request))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("inner must not be null");
        assertThatThrownBy(() -> new Filter<String, String, String>(inner, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("filter must not be null");
        assertThatThrownBy(() -> new RejectedException(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("reason must not be null");
    }
}
