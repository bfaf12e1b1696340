/**
 * The benchmark of {@link dev.belfry.grpc.WarmGrpcChannel} beside grpc-java's {@code round_robin}
 * (with client-side health checking) and {@code pick_first}, run by {@code
 * bench/channel-compare.sh} and never by the tests: {@link dev.belfry.grpc.bench.ChannelCompare}
 * hosts three grpc-java servers and a loopback DNS server ({@link
 * dev.belfry.grpc.bench.BenchServers}) and runs each client alone in a JVM of its own ({@link
 * dev.belfry.grpc.bench.BenchClient}). What it measures and the latest figures are in {@code
 * docs/channels.md}.
 */
@NullMarked
package dev.belfry.grpc.bench;

import org.jspecify.annotations.NullMarked;
