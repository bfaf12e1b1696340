package dev.belfry.proxy;

import dev.belfry.proxy.config.ConfigSummary;
import dev.belfry.proxy.config.ProxyConfig;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code belfry check --config FILE}: validates a configuration without starting anything.
 *
 * <p>Exit 0 with a short summary on stdout if the file is valid; exit 1 with every problem on stderr,
 * one {@code FILE:LINE:COLUMN: message} per line, if not (or if the file cannot be read); exit 2 for
 * a misused command line (picocli's usage message).
 */
@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description = "Validates a configuration file: prints every problem as FILE:LINE:COLUMN: message "
                + "and exits 1, or prints a summary and exits 0. Binds nothing.")
final class CheckCommand implements Callable<Integer> {
    @CommandLine.Mixin
    ConfigFile config;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ProxyConfig loaded = config.load(err);
        if (loaded == null) {
            return 1;
        }
        List<String> summary = ConfigSummary.lines(loaded);
        out.println(config + ": ok: " + summary.get(0));
        for (String line : summary.subList(1, summary.size())) {
            out.println("  " + line);
        }
        out.flush();
        return 0;
    }
}
