package dev.belfry.examples;

import dev.belfry.examples.client.ReplicasDemo;
import dev.belfry.examples.degradation.Coalescing;
import dev.belfry.examples.degradation.Degradation;
import java.util.Arrays;

/**
 * The entry point of {@code bin/belfry-example}: {@code demo} (the default: PostgreSQL, two
 * replicas and the client), {@code serve} (one service), {@code degradation}, {@code coalescing}.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        String command = args.length == 0 ? "demo" : args[0];
        String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
        switch (command) {
            case "demo" -> ReplicasDemo.main(rest);
            case "serve" -> dev.belfry.examples.users.Main.main(rest);
            case "degradation" -> Degradation.main(rest);
            case "coalescing" -> Coalescing.main(rest);
            default -> {
                System.err.println("usage: belfry-example [demo | serve [http-port [grpc-port]]"
                        + " | degradation [outage-seconds [rate]] | coalescing [readers [seconds]]]");
                System.exit(command.equals("--help") || command.equals("-h") ? 0 : 2);
            }
        }
    }
}
