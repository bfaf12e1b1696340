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
        subcommands = {
            DemoCommand.class,
            RunCommand.class,
            CheckCommand.class,
            CoreDemoCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Callable<Integer> {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** Runs the command line and exits with its status. */
    public static void main(String[] args) {
        int status = run(
                args,
                new PrintWriter(System.out, true, System.out.charset()),
                new PrintWriter(System.err, true, System.err.charset()));
        // The log's lines are written by a thread of their own: write what is queued first.
        Logging.flush();
        System.exit(status);
    }

    /** Runs the command line with the given output streams; returns the exit status. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setOut(out);
        commandLine.setErr(err);
        // A bad setting found while running (a -D property naming no transport, say) is the
        // user's to fix: one line saying what, not a stack trace.
        commandLine.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
                line.getErr().println("belfry: " + e.getMessage());
                line.getErr().flush();
                return 1;
            }
            throw e;
        });
        return commandLine.execute(args);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
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
