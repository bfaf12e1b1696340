package dev.belfry.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code belfry} command line: {@code belfry demo}, {@code belfry check --config FILE}, {@code
 * belfry --help}, {@code belfry --version}.
 */
@Command(
        name = "belfry",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Belfry: a networking toolkit and load-balancing proxy for the JVM.",
        subcommands = {Main.Demo.class, CheckCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** Runs the command line and exits with its status. */
    public static void main(String[] args) {
        System.exit(run(
                args,
                new PrintWriter(System.out, true, System.out.charset()),
                new PrintWriter(System.err, true, System.err.charset())));
    }

    /** Runs the command line with the given output streams; returns the exit status. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setOut(out);
        commandLine.setErr(err);
        return commandLine.execute(args);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** {@code belfry demo}: runs the embedded demonstration and exits. */
    @Command(
            name = "demo",
            mixinStandardHelpOptions = true,
            description = "Runs the embedded demo: a client stack of Belfry layers in front of a "
                    + "simulated backend under a burst of load, and what each layer did.")
    static final class Demo implements Callable<Integer> {
        @CommandLine.Option(
                names = "--requests",
                defaultValue = "400",
                description = "How many requests to send (default: ${DEFAULT-VALUE}).")
        int requests;

        @CommandLine.Option(
                names = "--rate",
                defaultValue = "650",
                description = "Requests per second (default: ${DEFAULT-VALUE}).")
        int rate;

        @CommandLine.Option(
                names = "--seed",
                defaultValue = "1",
                description = "Seed of the simulated backend's latencies (default: ${DEFAULT-VALUE}).")
        long seed;

        @CommandLine.Spec
        private CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            if (requests < 1) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--requests must be at least 1, was " + requests);
            }
            if (rate < 1 || rate > 1_000_000) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--rate must be between 1 and 1000000, was " + rate);
            }
            return CoreDemo.run(requests, rate, seed, spec.commandLine().getOut());
        }
    }

    /** Reads the version stamped into the jar at build time. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties properties = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/belfry-version.properties")) {
                if (in != null) {
                    properties.load(in);
                }
            }
            return new String[] {
                "belfry " + properties.getProperty("belfry.version", "unknown"),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor", "unknown vendor") + ")"
            };
        }
    }
}
