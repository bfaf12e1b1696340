package dev.belfry.balance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SerialTest {
    @Test
    void anErrorInATaskIsLoggedAndLaterTasksStillRun() {
        Serial serial = new Serial();
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
    }
}
