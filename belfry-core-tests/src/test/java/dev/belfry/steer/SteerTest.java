package dev.belfry.steer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.test.LayerContractTest;
import dev.belfry.test.ManualClock;
import dev.belfry.test.MockService;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class SteerTest extends LayerContractTest {
    private final MockService<String, String> reads = MockService.create();
    private final MockService<String, String> writes = MockService.create();

    /** Sends requests starting with "w" to the second service, the rest to the first. */
    private static final Picker<String> BY_VERB = (request, count) -> request.startsWith("w") ? 1 : 0;

    // The contract, checked for a one-service steer: every request goes to the one service.
    @Override
    protected Service<String, String> wrap(Service<String, String> inner, ManualClock clock) {
        return Steer.of(List.of(inner), (request, count) -> 0);
    }

    private Steer<String, String> steer() {
        return Steer.of(List.of(reads, writes), BY_VERB);
    }

    @Test
    void routesEachRequestToThePickedService() {
        Steer<String, String> steer = steer();
        CompletableFuture<String> read = steer.call("read x");
        CompletableFuture<String> write = steer.call("write y");
        assertThat(reads.handle().respondNext("x=1")).isEqualTo("read x");
        assertThat(writes.handle().respondNext("ok")).isEqualTo("write y");
        reads.handle().assertNoMoreRequests();
        writes.handle().assertNoMoreRequests();
        assertThat(read).isCompletedWithValue("x=1");
        assertThat(write).isCompletedWithValue("ok");
    }

    @Test
    void givesThePickerTheServiceCount() {
        List<Integer> counts = new ArrayList<>();
        Steer<String, String> steer = Steer.of(List.of(reads, writes, inner), (request, count) -> {
            counts.add(count);
            return 2;
        });
        steer.call("x");
        assertThat(counts).containsExactly(3);
        assertThat(inner.handle().respondNext("done")).isEqualTo("x");
    }

    @Test
    void aBusyServiceDoesNotBlockRequestsBoundForAnother() {
        writes.handle().allow(0);
        Steer<String, String> steer = steer();
        CompletableFuture<String> write = steer.call("write y");
        assertThat(writes.handle().waitingCalls()).isEqualTo(1);

        CompletableFuture<String> read = steer.call("read x");
        assertThat(reads.handle().respondNext("x=1")).isEqualTo("read x");
        assertThat(read).isCompletedWithValue("x=1");
        assertThat(steer.tryCall("read z"))
                .as("tryCall only asks the chosen service")
                .isNotNull();
        reads.handle().respondNext("z=2");
        assertThat(steer.tryCall("write w")).isNull();

        writes.handle().allow(1);
        writes.handle().respondNext("ok");
        assertThat(write).isCompletedWithValue("ok");
    }

    @Test
    void readyIfAnyServiceIsReadyAndClosedOnlyIfAllAre() {
        Steer<String, String> steer = steer();
        writes.handle().allow(0);
        assertThat(steer.readiness()).isEqualTo(Readiness.READY);
        reads.handle().allow(0);
        assertThat(steer.readiness()).isEqualTo(Readiness.BUSY);
        reads.close();
        assertThat(steer.readiness()).isEqualTo(Readiness.BUSY);
        writes.close();
        assertThat(steer.readiness()).isEqualTo(Readiness.CLOSED);
    }

    @Test
    void whenReadyCompletesWhenAnyBusyServiceFreesUp() {
        reads.handle().allow(0);
        writes.handle().allow(0);
        Steer<String, String> steer = steer();
        CompletableFuture<Void> ready = steer.whenReady().toCompletableFuture();
        assertThat(ready).isNotDone();
        writes.handle().allow(1);
        assertThat(ready).isCompleted();
        assertThat(steer.readiness()).isEqualTo(Readiness.READY);
    }

    @Test
    void whenReadyIgnoresClosedServicesSoItDoesNotWakeForNothing() {
        reads.close();
        writes.handle().allow(0);
        Steer<String, String> steer = steer();
        CompletableFuture<Void> ready = steer.whenReady().toCompletableFuture();
        assertThat(ready).isNotDone();
        writes.handle().allow(1);
        assertThat(ready).isCompleted();
    }

    @Test
    void anIndexOutOfRangeFailsTheCallNamingTheRule() {
        for (int bad : new int[] {2, -1}) {
            Steer<String, String> steer = Steer.of(List.of(reads, writes), (request, count) -> bad);
            assertThat(failureOf(steer.call("x")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("picker returned " + bad + " for 2 services; it must return an index in [0, 2)");
            assertThat(failureOf(steer.tryCall("x"))).isInstanceOf(IllegalStateException.class);
        }
        reads.handle().assertNoMoreRequests();
        writes.handle().assertNoMoreRequests();
    }

    @Test
    void aThrowingPickerFailsTheCallWithItsException() {
        IllegalArgumentException broken = new IllegalArgumentException("no route");
        Steer<String, String> steer = Steer.of(List.of(reads), (request, count) -> {
            throw broken;
        });
        assertThat(failureOf(steer.call("x"))).isSameAs(broken);
    }

    @Test
    void closeClosesEveryServiceOnce() {
        Steer<String, String> steer = steer();
        steer.close();
        steer.close();
        assertThat(reads.handle().closeCount()).isEqualTo(1);
        assertThat(writes.handle().closeCount()).isEqualTo(1);
        assertThat(steer.readiness()).isEqualTo(Readiness.CLOSED);
        assertThat(failureOf(steer.call("read x"))).isInstanceOf(ServiceClosedException.class);
        assertThat(steer.tryCall("read x")).isNull();
    }

    @Test
    void rejectsBadArgumentsNamingThem() {
        assertThatThrownBy(() -> Steer.of(List.<Service<String, String>>of(), BY_VERB))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("services must not be empty");
        assertThatThrownBy(() -> Steer.of(Arrays.asList(reads, null), BY_VERB))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("services[1] must not be null");
        assertThatThrownBy(() -> Steer.of(null, BY_VERB)).hasMessage("services must not be null");
        assertThatThrownBy(() -> Steer.of(List.of(reads), null)).hasMessage("picker must not be null");
    }

    @Test
    void copiesTheListOfServices() {
        List<Service<String, String>> services = new ArrayList<>(List.of(reads));
        Steer<String, String> steer = Steer.of(services, (request, count) -> count - 1);
        services.add(writes);
        steer.call("x");
        assertThat(reads.handle().respondNext("r")).isEqualTo("x");
        assertThat(steer.services()).containsExactly(reads);
    }
}
