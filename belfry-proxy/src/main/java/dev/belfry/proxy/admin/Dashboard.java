package dev.belfry.proxy.admin;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The human dashboard at {@code /}: one self-contained HTML page (inline CSS, no scripts, no external
 * assets) that refreshes itself, with a button that posts to {@code /reload}.
 *
 * <p>Every value that comes from configuration, discovery or errors is HTML-escaped, so a backend or
 * error message containing markup shows as text.
 */
final class Dashboard {
    static final int REFRESH_SECONDS = 5;
    static final int MAX_ERRORS = 50;

    private static final String STYLE = """
            body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330;background:#f6f7f9}
            h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 .4em}
            h3{font-size:1em;margin:1em 0 .3em}small{color:#5b6475;font-weight:normal}
            table{border-collapse:collapse;background:#fff;min-width:40em}
            th,td{padding:.3em .7em;border:1px solid #d8dce3;text-align:left;vertical-align:top}
            th{background:#eceff3}td.n{text-align:right;font-variant-numeric:tabular-nums}
            .pill{display:inline-block;padding:0 .5em;border-radius:.6em;font-size:.9em}
            .healthy,.ok{background:#d9f2df;color:#17612b}.unhealthy,.bad{background:#fbdcdc;color:#8a1c1c}
            .ejected{background:#fde8cc;color:#7a4200}.probing{background:#e3e8fb;color:#23397a}
            .err{color:#8a1c1c}footer{margin-top:2em;color:#5b6475}
            """;

    private Dashboard() {}

    static String render(ProxyStatus status) {
        List<ClusterStatus> clusters = status.clusters();
        List<String> reasons = Ready.reasons(status, clusters);
        StringBuilder html = new StringBuilder(4096);
        html.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"refresh\" content=\"")
                .append(REFRESH_SECONDS)
                .append("\"><title>Belfry</title><style>")
                .append(STYLE)
                .append("</style></head><body>\n<h1>Belfry</h1>\n<p>");
        if (reasons.isEmpty()) {
            html.append("<span class=\"pill ok\">ready</span>");
        } else {
            html.append("<span class=\"pill bad\">not ready</span> ");
            escape(String.join("; ", reasons), html);
        }
        html.append("</p>\n");
        // A plain form: no script, and the browser's Origin header lets the reload through.
        html.append("<form method=\"post\" action=\"/reload\">")
                .append("<button type=\"submit\" id=\"reload\">Reload configuration</button></form>\n");
        lastReload(status.lastReload(), html);
        listeners(status.listeners(), html);
        clusters(clusters, html);
        errors(status.recentErrors(), html);
        html.append("<footer>Refreshes every ")
                .append(REFRESH_SECONDS)
                .append(" s. Also: <a href=\"/health\">/health</a> (JSON), <a href=\"/metrics\">/metrics</a>")
                .append(" (Prometheus), <a href=\"/ready\">/ready</a>.</footer>\n</body></html>\n");
        return html.toString();
    }

    private static void lastReload(@Nullable ReloadResult reload, StringBuilder html) {
        if (reload == null) {
            return;
        }
        html.append("<p>Last reload at ");
        escape(reload.at().toString(), html);
        if (reload.ok()) {
            html.append(": <span class=\"pill ok\">applied</span></p>\n");
            return;
        }
        html.append(
                ": <span class=\"pill bad\">rejected</span>, the previous configuration keeps running:</p>\n<pre class=\"err\">");
        escape(String.join("\n", reload.problems()), html);
        html.append("</pre>\n");
    }

    private static void listeners(List<ListenerStatus> listeners, StringBuilder html) {
        html.append("<h2>Listeners</h2>\n");
        if (listeners.isEmpty()) {
            html.append("<p>None.</p>\n");
            return;
        }
        html.append("<table><tr><th>listener</th><th>address</th><th>cluster</th><th>active</th>")
                .append("<th>accepted</th><th>rejected</th></tr>\n");
        for (ListenerStatus listener : listeners) {
            html.append("<tr><td>");
            escape(listener.name(), html);
            html.append("</td><td>");
            escape(listener.address(), html);
            html.append("</td><td>");
            escape(listener.cluster(), html);
            html.append("</td>");
            number(listener.activeConnections(), html);
            number(listener.totalConnections(), html);
            number(listener.rejectedConnections(), html);
            html.append("</tr>\n");
        }
        html.append("</table>\n");
    }

    private static void clusters(List<ClusterStatus> clusters, StringBuilder html) {
        html.append("<h2>Clusters</h2>\n");
        if (clusters.isEmpty()) {
            html.append("<p>None.</p>\n");
            return;
        }
        for (ClusterStatus cluster : clusters) {
            html.append("<h3>");
            escape(cluster.name(), html);
            html.append(" <small>")
                    .append(cluster.healthyBackends())
                    .append(" of ")
                    .append(cluster.backends().size())
                    .append(" healthy</small></h3>\n");
            if (cluster.backends().isEmpty()) {
                html.append("<p>No backends.</p>\n");
                continue;
            }
            html.append("<table><tr><th>backend</th><th>state</th><th>active</th><th>connect failures</th>")
                    .append("<th>bytes to backend</th><th>bytes to clients</th><th>last error</th></tr>\n");
            for (BackendStatus backend : cluster.backends()) {
                html.append("<tr><td>");
                escape(backend.address(), html);
                html.append("</td><td><span class=\"pill ")
                        .append(backend.state().label())
                        .append("\">")
                        .append(backend.state().label())
                        .append("</span></td>");
                number(backend.activeConnections(), html);
                number(backend.connectFailures(), html);
                number(backend.bytesToBackend(), html);
                number(backend.bytesToClient(), html);
                html.append("<td class=\"err\">");
                String lastError = backend.lastError();
                if (lastError != null) {
                    escape(lastError, html);
                }
                html.append("</td></tr>\n");
            }
            html.append("</table>\n");
        }
    }

    private static void errors(List<RecentError> errors, StringBuilder html) {
        html.append("<h2>Recent errors</h2>\n");
        if (errors.isEmpty()) {
            html.append("<p>None.</p>\n");
            return;
        }
        html.append("<table><tr><th>time (UTC)</th><th>where</th><th>error</th></tr>\n");
        int shown = Math.min(errors.size(), MAX_ERRORS);
        for (int i = 0; i < shown; i++) {
            RecentError error = errors.get(i);
            html.append("<tr><td>");
            escape(error.at().toString(), html);
            html.append("</td><td>");
            escape(error.source(), html);
            html.append("</td><td class=\"err\">");
            escape(error.message(), html);
            html.append("</td></tr>\n");
        }
        html.append("</table>\n");
    }

    private static void number(long value, StringBuilder html) {
        html.append("<td class=\"n\">").append(value).append("</td>");
    }

    /** Appends {@code text} with the five HTML-significant characters escaped, for text and attributes. */
    static void escape(String text, StringBuilder html) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> html.append("&lt;");
                case '>' -> html.append("&gt;");
                case '&' -> html.append("&amp;");
                case '"' -> html.append("&quot;");
                case '\'' -> html.append("&#39;");
                default -> html.append(c);
            }
        }
    }
}
