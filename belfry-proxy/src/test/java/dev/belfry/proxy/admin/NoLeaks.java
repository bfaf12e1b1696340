package dev.belfry.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class if Netty's leak detector reports a leaked buffer while it runs.
 *
 * <p>Surefire runs with paranoid leak detection, which tracks every buffer but reports a leak only once
 * the garbage collector has found the unreleased buffer and a later allocation checks. After the class,
 * this collects garbage and allocates a few buffers so pending reports surface. Reports are caught
 * through Netty's leak listener, whatever logging library is on the class path.
 */
final class NoLeaks implements BeforeAllCallback, AfterAllCallback {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    @Override
    public void beforeAll(ExtensionContext context) {
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
        LEAKS.clear();
        ByteBufUtil.setLeakListener((type, records) -> LEAKS.add(type + ": " + records));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        try {
            for (int i = 0; i < 5; i++) {
                System.gc();
                ByteBuf probe = ByteBufAllocator.DEFAULT.buffer(16);
                probe.release();
            }
            assertThat(LEAKS).as("leaked Netty buffers").isEmpty();
        } finally {
            ByteBufUtil.setLeakListener(null);
        }
    }
}
