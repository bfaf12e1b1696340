package dev.belfry.test;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.lang.reflect.Proxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The leak check catches a leak: a buffer allocated and dropped without release fails the class.
 * Netty logs through java.util.logging in this module, so the buffer leak listener and the JUL tap
 * both hear it.
 */
class NoNettyLeaksTest {

    @Test
    void aBufferDroppedWithoutReleaseFailsTheClass() throws Exception {
        assertThat(LeakCheck.failureAfter(() -> {
                    ByteBuf leaked = ByteBufAllocator.DEFAULT.buffer(32);
                    leaked.writeInt(42);
                }))
                .contains("Netty leak report(s) while leaky ran")
                .contains("LEAK");
    }

    @Test
    void releasedBuffersPass() throws Exception {
        NoNettyLeaks check = new NoNettyLeaks();
        ExtensionContext context = LeakCheck.context();
        check.beforeAll(context);
        ByteBuf released = ByteBufAllocator.DEFAULT.buffer(32);
        released.release();
        check.afterAll(context);
    }

    /** Runs the check around a leak until the detector reports it (bounded); returns the failure's message. */
    static final class LeakCheck {
        private LeakCheck() {}

        static String failureAfter(Runnable leak) throws Exception {
            return failureAfter(leak, () -> {});
        }

        /**
         * As {@link #failureAfter(Runnable)}, running {@code probe} in each round: a detector reports
         * only when it tracks a new object, so a leak of a type other than buffers needs a new one.
         */
        static String failureAfter(Runnable leak, Runnable probe) throws Exception {
            NoNettyLeaks check = new NoNettyLeaks();
            ExtensionContext context = context();
            check.beforeAll(context);
            leak.run();
            // A report needs the garbage collector to find the buffer; each round collects and
            // allocates. Waiting here for it also keeps the report from reaching a later class.
            for (int round = 0; round < 20; round++) {
                System.gc();
                probe.run();
                try {
                    check.afterAll(context);
                } catch (AssertionError expected) {
                    return String.valueOf(expected.getMessage());
                }
                check.beforeAll(context);
            }
            check.afterAll(context);
            throw new AssertionError("no leak reported in 20 rounds of collection");
        }

        static ExtensionContext context() {
            return (ExtensionContext) Proxy.newProxyInstance(
                    ExtensionContext.class.getClassLoader(),
                    new Class<?>[] {ExtensionContext.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("getDisplayName")) {
                            return "leaky";
                        }
                        throw new UnsupportedOperationException(method.getName());
                    });
        }
    }
}
