package dev.belfry.http.server;

import dev.belfry.http.HttpResponse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A child process for {@code HttpServerConnectionsTest}: starts a server (with the descriptor
 * reserve if the argument says so), answers one request to load its classes, then opens
 * {@code /dev/null} until the process has no descriptor left and prints {@code exhausted port=N}.
 * Each {@code check} line on standard input is answered with whether opening a file still fails.
 */
final class OutOfDescriptorsMain {
    private OutOfDescriptorsMain() {}

    public static void main(String[] args) throws Exception {
        // Standard output carries the answers only: logging (a test class path may hold a logger
        // that writes to the console) goes to standard error, which the test sends to a file.
        PrintStream answers = System.out;
        System.setOut(System.err);
        var builder = HttpServer.builder(request -> CompletableFuture.completedFuture(HttpResponse.text("ok")))
                .ioThreads(1)
                .transport(dev.belfry.netty.transport.Transport.NIO);
        if (Boolean.parseBoolean(args[0])) {
            builder.reserveDescriptor();
        }
        HttpServer server = builder.start();
        warmUp(server.port());
        List<FileChannel> hog = new ArrayList<>();
        while (true) {
            try {
                hog.add(FileChannel.open(Path.of("/dev/null"), StandardOpenOption.READ));
            } catch (IOException e) {
                break;
            }
        }
        answers.println("exhausted port=" + server.port());
        answers.flush();
        var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            boolean exhausted;
            try (FileChannel probe = FileChannel.open(Path.of("/dev/null"), StandardOpenOption.READ)) {
                exhausted = false;
            } catch (IOException e) {
                exhausted = true;
            }
            answers.println(exhausted ? "still exhausted" : "descriptors free: " + hog.size() + " held");
            answers.flush();
        }
    }

    private static void warmUp(int port) throws IOException {
        try (var socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
            socket.getOutputStream()
                    .write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
            socket.getInputStream().readAllBytes();
        }
    }
}
