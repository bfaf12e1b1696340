package dev.belfry.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SerialExecutorTest {
    @Test
    void anErrorInATaskIsLoggedAndLaterTasksStillRun() {
        List<Throwable> failures = new ArrayList<>();
        SerialExecutor serial = new SerialExecutor(failures::add);
        List<String> ran = new ArrayList<>();
        serial.execute(() -> {
            ran.add("first");
            throw new AssertionError("user code failed");
        });
        serial.execute(() -> ran.add("second"));
        serial.execute(() -> {
            // Queued behind the running task, then run by the same drain.
            serial.execute(() -> ran.add("fourth"));
            ran.add("third");
        });
        assertThat(ran).containsExactly("first", "second", "third", "fourth");
        assertThat(failures).singleElement().isInstanceOf(AssertionError.class);
    }
}
