package dev.belfry.proxy;

import dev.belfry.proxy.config.ConfigException;
import dev.belfry.proxy.config.ConfigLoader;
import dev.belfry.proxy.config.ConfigProblem;
import dev.belfry.proxy.config.ProxyConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;

/** The {@code --config FILE} option of {@code run} and {@code check}, and loading that file. */
final class ConfigFile {
    @CommandLine.Option(
            names = {"-c", "--config"},
            required = true,
            paramLabel = "FILE",
            description = "The TOML configuration file.")
    Path path;

    /** The loaded file, or {@code null} after printing every problem to {@code err}, one per line. */
    @Nullable
    ProxyConfig load(PrintWriter err) {
        try {
            return ConfigLoader.load(path);
        } catch (ConfigException e) {
            for (ConfigProblem problem : e.problems()) {
                err.println(problem);
            }
            err.flush();
            return null;
        }
    }

    @Override
    public String toString() {
        return String.valueOf(path);
    }
}
