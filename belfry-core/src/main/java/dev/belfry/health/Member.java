package dev.belfry.health;

import dev.belfry.time.Clock;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One endpoint's health, shared by every service monitored under its key. Guarded by the monitor,
 * except the passive counters ({@code consecutiveFailures} and the success-rate window), which are
 * guarded by this object: a success updates them under this lock alone, and code holding the
 * monitor's lock takes this one inside it, never the other way round.
 */
final class Member<K> {
    final K key;
    int refs;
    volatile HealthStatus status = HealthStatus.HEALTHY;

    @Nullable
    Throwable lastError;

    long changedAt;
    long lastCheckAt;
    boolean activeHealthy = true;
    int passes;
    int fails;
    volatile int consecutiveFailures;
    int ejections;
    long ejectedUntil;
    long lastEjectionEnd;
    boolean probing;
    long windowStart;
    int windowSuccesses;
    int windowFailures;

    @Nullable
    HealthCheck check;

    @Nullable
    Object round;

    Clock.@Nullable Scheduled checkTimer;
    Clock.@Nullable Scheduled timeoutTimer;
    Clock.@Nullable Scheduled ejectionTimer;

    @Nullable
    CompletableFuture<?> inflightCheck;

    CompletableFuture<Void> signal = new CompletableFuture<>();

    Member(K key, long now) {
        this.key = key;
        this.changedAt = now;
        this.windowStart = now;
    }

    /** One active probe; identity tells a late result from the current one. */
    static final class Round {}

    synchronized HealthState snapshot() {
        return new HealthState(status, lastError, changedAt, lastCheckAt, consecutiveFailures, ejections, ejectedUntil);
    }
}
