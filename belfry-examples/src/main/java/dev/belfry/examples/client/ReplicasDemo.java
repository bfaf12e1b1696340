package dev.belfry.examples.client;

import com.zaxxer.hikari.HikariDataSource;
import dev.belfry.channel.AddressSource;
import dev.belfry.channel.PoolStatus;
import dev.belfry.channel.http.WarmHttpChannel;
import dev.belfry.examples.degradation.RestartableDatabase;
import dev.belfry.examples.users.Main;
import dev.belfry.examples.users.UsersService;
import dev.belfry.examples.users.grpc.GetUserRequest;
import dev.belfry.examples.users.grpc.UserServiceGrpc;
import dev.belfry.grpc.WarmGrpcChannel;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.client.HttpClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The whole example in one process: an embedded PostgreSQL, two replicas of the users service
 * sharing it, and a client that calls them through a warm gRPC channel (and a plain HTTP client per
 * replica), printing once a second what it sees while replica 2 stops and comes back.
 *
 * <p>{@code bin/belfry-example} runs it: 5 s with both replicas, replica 2 stopped for 8 s, 7 s with
 * both again. Each line shows the gRPC calls of the last second (all through one {@link
 * WarmGrpcChannel}: the failures of calls to a replica that left are retried on the other, so
 * callers see none), the channel's members per address, and each replica's {@code /ready}.
 */
public final class ReplicasDemo {
    private static final String TOKEN = "demo";

    private ReplicasDemo() {}

    /** One replica: a users service on fixed ports, so it comes back at the same address. */
    static final class Replica implements AutoCloseable {
        final String name;
        final int httpPort;
        final int grpcPort;
        final HikariDataSource pool;
        private @Nullable UsersService service;

        Replica(String name, String jdbcUrl) throws IOException {
            this.name = name;
            this.httpPort = freePort();
            this.grpcPort = freePort();
            this.pool = Main.pool(jdbcUrl);
        }

        synchronized void start() throws Exception {
            if (service == null) {
                service = UsersService.builder(pool)
                        .httpPort(httpPort)
                        .grpcPort(grpcPort)
                        .writeToken(TOKEN)
                        .start();
            }
        }

        synchronized void stop() {
            if (service != null) {
                service.close();
                service = null;
            }
        }

        @Override
        public void close() {
            stop();
            pool.close();
        }
    }

    public static void main(String[] args) throws Exception {
        try (RestartableDatabase database = RestartableDatabase.start();
                Replica one = new Replica("replica-1", database.jdbcUrl());
                Replica two = new Replica("replica-2", database.jdbcUrl())) {
            one.start();
            two.start();
            System.out.printf(
                    Locale.ROOT,
                    "PostgreSQL (embedded) at %s%n%s: HTTP :%d gRPC :%d%n%s: HTTP :%d gRPC :%d%n",
                    database.jdbcUrl(),
                    one.name,
                    one.httpPort,
                    one.grpcPort,
                    two.name,
                    two.httpPort,
                    two.grpcPort);
            run(List.of(one, two), two);
        }
    }

    private static void run(List<Replica> replicas, Replica leaving) throws Exception {
        List<InetSocketAddress> addresses = replicas.stream()
                .map(replica -> new InetSocketAddress(InetAddress.getLoopbackAddress(), replica.grpcPort))
                .toList();
        List<InetSocketAddress> httpAddresses = replicas.stream()
                .map(replica -> new InetSocketAddress(InetAddress.getLoopbackAddress(), replica.httpPort))
                .toList();
        // One warm channel over every replica's gRPC port, and one over every replica's HTTP port:
        // each connected and health-checked (grpc.health.v1, and GET /ready, both following each
        // replica's database) before the first call.
        try (WarmGrpcChannel channel = WarmGrpcChannel.builder("users", AddressSource.of(addresses))
                        .healthChecks(Duration.ofSeconds(1), Duration.ofMillis(800))
                        .build();
                WarmHttpChannel web = WarmHttpChannel.builder("users-http", AddressSource.of(httpAddresses))
                        .healthChecks(Duration.ofSeconds(1), Duration.ofMillis(800))
                        .build()) {
            // A plain client per replica too, only to show each replica's own /ready below.
            List<HttpClient> http = new ArrayList<>();
            for (Replica replica : replicas) {
                http.add(HttpClient.builder("127.0.0.1", replica.httpPort).build());
            }
            try {
                channel.whenReady().toCompletableFuture().get(10, TimeUnit.SECONDS);
                web.whenReady().toCompletableFuture().get(10, TimeUnit.SECONDS);
                long id = createUser(http.get(0));
                UserServiceGrpc.UserServiceBlockingStub users = UserServiceGrpc.newBlockingStub(channel);
                long ok = 0;
                long failed = 0;
                String lastError = "";
                long httpOk = 0;
                long httpFailed = 0;
                for (int second = 1; second <= 20; second++) {
                    if (second == 6) {
                        System.out.println("--- " + leaving.name + " stops");
                        leaving.stop();
                    } else if (second == 14) {
                        System.out.println("--- " + leaving.name + " starts again");
                        leaving.start();
                    }
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                    while (System.nanoTime() < until) {
                        try {
                            users.withDeadlineAfter(2, TimeUnit.SECONDS)
                                    .getUser(GetUserRequest.newBuilder()
                                            .setId(id)
                                            .build());
                            ok++;
                        } catch (io.grpc.StatusRuntimeException e) {
                            failed++;
                            lastError = e.getStatus().toString();
                        }
                        try {
                            HttpResponse got = web.call(HttpRequest.get("/api/v1/users/" + id))
                                    .get(2, TimeUnit.SECONDS);
                            got.body().discard();
                            if (got.status() == 200) {
                                httpOk++;
                            } else {
                                httpFailed++;
                                lastError = "HTTP status " + got.status();
                            }
                        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                            httpFailed++;
                            lastError = "HTTP " + e.getCause();
                        }
                        Thread.sleep(20);
                    }
                    PoolStatus status = channel.status().get(5, TimeUnit.SECONDS);
                    System.out.printf(
                            Locale.ROOT,
                            "t=%2ds gRPC GetUser ok %3d failed %d | HTTP GET ok %3d failed %d | channel %s, members %s | %s%s%n",
                            second,
                            ok,
                            failed,
                            httpOk,
                            httpFailed,
                            status.state(),
                            members(status),
                            ready(replicas, http),
                            failed + httpFailed > 0 ? " | last error " + lastError : "");
                    ok = 0;
                    failed = 0;
                    httpOk = 0;
                    httpFailed = 0;
                }
            } finally {
                for (HttpClient client : http) {
                    client.close();
                }
            }
        }
    }

    private static long createUser(HttpClient client) throws Exception {
        HttpResponse created = client.call(HttpRequest.builder(dev.belfry.http.HttpMethod.POST, "/api/v1/users")
                        .header("authorization", "Bearer " + TOKEN)
                        .header("content-type", "application/json")
                        .body(dev.belfry.http.Body.of(
                                "{\"name\":\"Ada\",\"email\":\"ada-" + System.nanoTime() + "@example.com\"}"))
                        .build())
                .get(10, TimeUnit.SECONDS);
        String location = created.header("location");
        created.body().discard();
        if (created.status() != 201 || location == null) {
            throw new IllegalStateException("creating a user answered " + created.status());
        }
        return Long.parseLong(location.substring(location.lastIndexOf('/') + 1));
    }

    /** The channel's serving members by address, such as {@code :4123 2/2 :4125 0/1}. */
    private static String members(PoolStatus status) {
        return status.memberList().stream()
                .collect(Collectors.groupingBy(
                        member -> member.address().substring(member.address().lastIndexOf(':')),
                        java.util.TreeMap::new,
                        Collectors.toList()))
                .entrySet()
                .stream()
                .map(entry -> entry.getKey() + " "
                        + entry.getValue().stream()
                                .filter(PoolStatus.MemberStatus::serving)
                                .count() + "/"
                        + entry.getValue().size())
                .collect(Collectors.joining(" "));
    }

    /** Each replica's /ready through its HTTP client: the status, or why there is none. */
    private static String ready(List<Replica> replicas, List<HttpClient> http) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < replicas.size(); i++) {
            String state;
            try {
                HttpResponse response =
                        http.get(i).call(HttpRequest.get("/ready")).get(2, TimeUnit.SECONDS);
                response.body().discard();
                state = Integer.toString(response.status());
            } catch (Exception e) {
                state = "down";
            }
            parts.add(replicas.get(i).name + " /ready " + state);
        }
        return String.join(", ", parts);
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }
}
