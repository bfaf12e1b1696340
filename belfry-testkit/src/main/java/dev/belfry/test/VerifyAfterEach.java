package dev.belfry.test;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit extension that, after each test, verifies every {@link Verifiable} field of the test
 * instance (including inherited ones): a {@link ManualClock} with no pending timers, a {@link
 * MockService} with no unanswered requests, any custom check such as "every permit returned".
 *
 * <p>Skipped when the test itself already failed, so the first failure is the one reported.
 */
public final class VerifyAfterEach implements AfterEachCallback {

    @Override
    public void afterEach(ExtensionContext context) throws IllegalAccessException {
        if (context.getExecutionException().isPresent()) {
            return;
        }
        Object instance = context.getRequiredTestInstance();
        List<String> problems = new ArrayList<>();
        for (Class<?> type = instance.getClass(); type != Object.class; type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                if (!Verifiable.class.isAssignableFrom(field.getType())) {
                    continue;
                }
                field.setAccessible(true);
                Object value = field.get(instance);
                if (value == null) {
                    continue;
                }
                try {
                    ((Verifiable) value).verify();
                } catch (AssertionError e) {
                    problems.add(field.getName() + ": " + e.getMessage());
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new AssertionError("left behind after the test:\n  " + String.join("\n  ", problems));
        }
    }
}
