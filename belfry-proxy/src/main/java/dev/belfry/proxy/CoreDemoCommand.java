package dev.belfry.proxy;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code belfry core-demo}: the service core's layers in front of a simulated backend, in-process. */
@Command(
        name = "core-demo",
        mixinStandardHelpOptions = true,
        description = "Shows the service core at work: a client stack of Belfry layers (timeout, load "
                + "shed, concurrency limit) in front of a simulated backend under load, and what "
                + "each layer did. Runs in-process and exits.")
final class CoreDemoCommand implements Callable<Integer> {
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
