package dev.belfry.proxy;

import dev.belfry.proxy.config.ProxyConfig;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code belfry run --config FILE}: runs the proxy until SIGTERM or SIGINT, then drains and exits 0.
 * SIGHUP reloads the file.
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = "Runs the proxy from a TOML configuration. SIGHUP or POST /reload on the admin "
                + "server reloads it; SIGTERM or SIGINT drains (stops accepting, lets open "
                + "connections finish within drain_timeout) and exits 0.")
final class RunCommand implements Callable<Integer> {
    @CommandLine.Mixin
    ConfigFile config;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        ProxyConfig loaded = config.load(err);
        if (loaded == null) {
            err.println("belfry: not started: fix the problems above (belfry check -c " + config + " lists them)");
            err.flush();
            return 1;
        }
        return serve(ProxyServer.of(config.path, loaded), err, null);
    }

    /**
     * Starts {@code server}, runs {@code afterStart} if given, then waits for SIGTERM/SIGINT (or for
     * {@code stop} to be counted down), drains and closes. Returns the exit status.
     */
    static int serve(ProxyServer server, PrintWriter err, @org.jspecify.annotations.Nullable Runnable afterStart)
            throws InterruptedException {
        return serve(server, err, afterStart, new CountDownLatch(1));
    }

    static int serve(
            ProxyServer server,
            PrintWriter err,
            @org.jspecify.annotations.Nullable Runnable afterStart,
            CountDownLatch stop)
            throws InterruptedException {
        // Handlers first: a signal that arrives once the listeners are bound (and /ready says 200)
        // must drain or reload, not meet the JVM's default action, which kills the process.
        String stopOtherwise = "stop it with SIGTERM or SIGINT, whichever is not ignored";
        Signals.on("TERM", "drain and exit", stopOtherwise, stop::countDown);
        Signals.on("INT", "drain and exit", stopOtherwise, stop::countDown);
        Signals.on(
                "HUP",
                "reload the configuration",
                "reload with POST /reload on the admin server, or start belfry without nohup",
                server::reload);
        try {
            server.start();
        } catch (RuntimeException e) {
            err.println("belfry: not started: " + e.getMessage());
            err.flush();
            return 1;
        }
        try {
            if (afterStart != null) {
                afterStart.run();
            }
            stop.await();
            server.drain();
        } finally {
            server.close();
        }
        return 0;
    }
}
