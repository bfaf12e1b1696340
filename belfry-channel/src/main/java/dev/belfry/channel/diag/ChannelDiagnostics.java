package dev.belfry.channel.diag;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.channel.ChannelRegistry;
import dev.belfry.channel.PoolStatus;
import dev.belfry.channel.RecordedError;
import dev.belfry.channel.WarmPool;
import dev.belfry.http.Body;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.router.Router;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * The {@code /debug/channels} page: every pool of a {@link ChannelRegistry} with its state, its
 * resolved addresses (stale or not, members on each, the next connection attempt, the last errors
 * with their times and repeat counts) and its members, as HTML for people or JSON for scripts.
 *
 * <pre>{@code
 * ChannelDiagnostics page = ChannelDiagnostics.of(channels);
 * Router admin = Router.builder()
 *         .get(ChannelDiagnostics.PATH, page)    // "/debug/channels"; or .nest("/admin", page.router())
 *         .build();
 * }</pre>
 *
 * <p>JSON when the query says {@code ?format=json}, or when the {@code Accept} header asks for
 * {@code application/json} and not for HTML; HTML otherwise ({@code ?format=html} forces it). Every
 * address, error and name on the HTML page is escaped: they are untrusted text (DNS answers,
 * remote error messages). Times are shown as "ago" and as UTC instants from the {@code wallClock};
 * the pools' own clocks are monotonic and never shown raw. Responses are not cached ({@code
 * Cache-Control: no-store}). Read-only and thread-safe; mount it on an admin server, not a public one.
 */
public final class ChannelDiagnostics implements Service<HttpRequest, HttpResponse> {
    /** The path {@link #router()} serves the page on. */
    public static final String PATH = "/debug/channels";

    private final ChannelRegistry channels;
    private final Clock wallClock;

    private ChannelDiagnostics(ChannelRegistry channels, Clock wallClock) {
        this.channels = channels;
        this.wallClock = wallClock;
    }

    /** The page of {@code channels}' pools, with times from the system's UTC clock. */
    public static ChannelDiagnostics of(ChannelRegistry channels) {
        return of(channels, Clock.systemUTC());
    }

    /** The page of {@code channels}' pools, with wall-clock times from {@code wallClock}. */
    public static ChannelDiagnostics of(ChannelRegistry channels, Clock wallClock) {
        return new ChannelDiagnostics(Checks.notNull(channels, "channels"), Checks.notNull(wallClock, "wallClock"));
    }

    /**
     * A router serving this page on {@value #PATH}: a server's whole service, or nested into a
     * server's router under a prefix.
     */
    public Router router() {
        return Router.builder().get(PATH, this).build();
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        request.body().discard();
        boolean json;
        try {
            json = wantsJson(request);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(
                    HttpResponse.status(400).text(e.getMessage() + "\n").build());
        }
        List<WarmPool<?, ?, ?>> pools = channels.pools();
        List<CompletableFuture<PoolStatus>> statuses = new ArrayList<>(pools.size());
        for (WarmPool<?, ?, ?> pool : pools) {
            statuses.add(pool.status());
        }
        CompletableFuture<HttpResponse> response = CompletableFuture.allOf(
                        statuses.toArray(CompletableFuture<?>[]::new))
                .thenApply(ignored -> {
                    Instant now = wallClock.instant();
                    List<ChannelView> views = new ArrayList<>(statuses.size());
                    for (CompletableFuture<PoolStatus> status : statuses) {
                        views.add(ChannelView.of(status.join(), now));
                    }
                    Page page = new Page(now.toString(), views);
                    HttpResponse.Builder builder = HttpResponse.status(200).setHeader("cache-control", "no-store");
                    if (json) {
                        return builder.json(page).build();
                    }
                    return builder.setHeader("content-type", "text/html; charset=utf-8")
                            .body(Body.of(Html.render(page)))
                            .build();
                });
        return response.exceptionally(failure -> HttpResponse.status(500)
                .text("could not read the channels' status: " + Futures.unwrap(failure) + "\n")
                .build());
    }

    private static boolean wantsJson(HttpRequest request) {
        String format = request.queryParam("format");
        if (format != null) {
            return switch (format.toLowerCase(Locale.ROOT)) {
                case "json" -> true;
                case "html" -> false;
                default -> throw new IllegalArgumentException("format must be json or html, was '" + format + "'");
            };
        }
        String accept = request.header("accept");
        if (accept == null) {
            return false;
        }
        String lower = accept.toLowerCase(Locale.ROOT);
        return lower.contains("application/json") && !lower.contains("text/html");
    }

    @Override
    public String toString() {
        return "ChannelDiagnostics"
                + channels.pools().stream().map(WarmPool::name).toList();
    }

    /** The whole page: when it was taken and every channel. */
    record Page(String time, List<ChannelView> channels) {}

    /** One channel, as the page shows it. */
    record ChannelView(
            String name,
            String state,
            int want,
            int target,
            int members,
            int healthy,
            int serving,
            long opened,
            @Nullable String lastError,
            boolean stale,
            @Nullable ErrorView resolutionError,
            List<AddressView> addresses,
            List<MemberView> memberList) {

        static ChannelView of(PoolStatus status, Instant now) {
            List<AddressView> addresses = new ArrayList<>();
            for (PoolStatus.AddressStatus address : status.addresses()) {
                List<ErrorView> errors = new ArrayList<>();
                for (RecordedError error : address.errors()) {
                    errors.add(ErrorView.of(error, status.nanoTime(), now));
                }
                long waitNanos = address.nextAttemptNanos() - status.nanoTime();
                addresses.add(new AddressView(
                        address.address(),
                        address.resolved(),
                        address.stale(),
                        address.members(),
                        address.nextAttemptNanos() == 0 || waitNanos <= 0 ? 0 : Math.max(1, waitNanos / 1_000_000),
                        errors));
            }
            List<MemberView> members = new ArrayList<>();
            for (PoolStatus.MemberStatus member : status.memberList()) {
                members.add(new MemberView(
                        member.id(), member.address(), member.state(), member.serving(), member.inflight()));
            }
            RecordedError resolution = status.resolutionError();
            return new ChannelView(
                    status.name(),
                    status.state().name().toLowerCase(Locale.ROOT),
                    status.want(),
                    status.target(),
                    status.members(),
                    status.healthy(),
                    status.serving(),
                    status.opened(),
                    status.lastError(),
                    status.stale(),
                    resolution == null ? null : ErrorView.of(resolution, status.nanoTime(), now),
                    addresses,
                    members);
        }
    }

    /**
     * One address.
     *
     * @param nextAttemptInMillis how long until a new connection to it may start; 0 for at once
     */
    record AddressView(
            String address,
            boolean resolved,
            boolean stale,
            int members,
            long nextAttemptInMillis,
            List<ErrorView> errors) {}

    /** One member. */
    record MemberView(long id, String address, String state, boolean serving, int inflight) {}

    /**
     * One recorded error with its repeats.
     *
     * @param first when it was first seen (UTC)
     * @param last when it was last seen (UTC)
     * @param lastAgoMillis how long ago it was last seen
     */
    record ErrorView(String message, int count, String first, String last, long lastAgoMillis) {
        static ErrorView of(RecordedError error, long poolNow, Instant now) {
            long firstAgo = Math.max(0, poolNow - error.firstNanos());
            long lastAgo = Math.max(0, poolNow - error.lastNanos());
            return new ErrorView(
                    error.message(),
                    error.count(),
                    now.minusNanos(firstAgo).toString(),
                    now.minusNanos(lastAgo).toString(),
                    lastAgo / 1_000_000);
        }
    }
}
