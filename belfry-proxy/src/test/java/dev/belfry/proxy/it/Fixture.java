package dev.belfry.proxy.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What an integration test starts (line backends, an in-process proxy, a DNS server, anything
 * closeable), closed after the test, last opened first, with the proxy's config directory deleted.
 *
 * <pre>{@code
 * @RegisterExtension
 * final Fixture fixture = new Fixture();
 *
 * LineBackend a = fixture.backend("a");
 * InProcessProxy proxy = fixture.proxy("""
 *         [admin] ...
 *         """);
 * }</pre>
 *
 * <p>It runs after the test's own {@code @AfterEach} methods, so a test that must stop its client
 * threads first does that there. Every close is attempted; the first failure is thrown with the
 * others suppressed.
 */
final class Fixture implements AfterEachCallback {
    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    private @Nullable Path dir;

    /** Registers {@code closeable} to be closed after the test, before everything opened earlier. */
    <T extends AutoCloseable> T open(T closeable) {
        opened.push(closeable);
        return closeable;
    }

    /** A line backend named {@code name} on 127.0.0.1, closed after the test. */
    LineBackend backend(String name) throws IOException {
        return open(LineBackend.start(name));
    }

    /** A proxy started from {@code toml} (written to {@code belfry.toml} in a fresh directory), closed after the test. */
    InProcessProxy proxy(String toml) throws Exception {
        return open(InProcessProxy.start(dir().resolve("belfry.toml"), toml));
    }

    /** The directory for this test's files, created on first use and deleted after the test. */
    Path dir() throws IOException {
        if (dir == null) {
            dir = Files.createTempDirectory("belfry-it-");
        }
        return dir;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        Exception failure = null;
        while (!opened.isEmpty()) {
            try {
                opened.pop().close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> {
                    try {
                        Files.delete(path);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            dir = null;
        }
        if (failure != null) {
            throw failure;
        }
    }
}
