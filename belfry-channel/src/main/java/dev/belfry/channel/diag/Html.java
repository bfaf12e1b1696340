package dev.belfry.channel.diag;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** Renders the {@code /debug/channels} page as HTML; every piece of text goes through {@link #escape}. */
final class Html {
    private Html() {}

    static String render(ChannelDiagnostics.Page page) {
        StringBuilder out = new StringBuilder(4096);
        out.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Channels</title>\n")
                .append(
                        "<style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;margin:.5em 0 1em}")
                .append("td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}")
                .append(".healthy{color:#070}.unhealthy{color:#a00}.degraded{color:#b60}.stale{color:#b60}</style>\n")
                .append("</head><body>\n<h1>Channels</h1>\n<p>")
                .append(page.channels().size())
                .append(page.channels().size() == 1 ? " channel" : " channels")
                .append(" at ")
                .append(escape(page.time()))
                .append(" (<a href=\"?format=json\">JSON</a>)</p>\n");
        for (ChannelDiagnostics.ChannelView channel : page.channels()) {
            channel(out, channel);
        }
        return out.append("</body></html>\n").toString();
    }

    private static void channel(StringBuilder out, ChannelDiagnostics.ChannelView channel) {
        out.append("<section class=\"channel\">\n<h2>")
                .append(escape(channel.name()))
                .append(" <span class=\"")
                .append(escape(channel.state()))
                .append("\">")
                .append(escape(channel.state()))
                .append("</span></h2>\n<p>")
                .append(channel.healthy())
                .append(" healthy, ")
                .append(channel.serving())
                .append(" serving, ")
                .append(channel.members())
                .append(" members of ")
                .append(channel.target())
                .append(channel.target() != channel.want() ? " (grown from " + channel.want() + ")" : "")
                .append("; ")
                .append(channel.opened())
                .append(" opened since start</p>\n");
        if (channel.lastError() != null) {
            out.append("<p>Last error: <code>")
                    .append(escape(channel.lastError()))
                    .append("</code></p>\n");
        }
        if (channel.stale()) {
            out.append("<p class=\"stale\">Addresses are from a stale answer: later resolutions failed.</p>\n");
        }
        if (channel.resolutionError() != null) {
            out.append("<p>Last resolution error: ");
            error(out, channel.resolutionError());
            out.append("</p>\n");
        }
        out.append("<h3>Addresses</h3>\n");
        if (channel.addresses().isEmpty()) {
            out.append("<p>none resolved yet</p>\n");
        } else {
            out.append("<table class=\"addresses\"><tr><th>address</th><th>resolved</th><th>members</th>")
                    .append("<th>next connection</th><th>last errors</th></tr>\n");
            for (ChannelDiagnostics.AddressView address : channel.addresses()) {
                out.append("<tr><td><code>")
                        .append(escape(address.address()))
                        .append("</code></td><td>")
                        .append(
                                address.resolved()
                                        ? (address.stale() ? "<span class=\"stale\">stale</span>" : "yes")
                                        : "no (draining)")
                        .append("</td><td>")
                        .append(address.members())
                        .append("</td><td>")
                        .append(
                                address.nextAttemptInMillis() == 0
                                        ? "now"
                                        : "in " + address.nextAttemptInMillis() + " ms")
                        .append("</td><td>");
                errors(out, address.errors());
                out.append("</td></tr>\n");
            }
            out.append("</table>\n");
        }
        out.append("<h3>Members</h3>\n");
        if (channel.memberList().isEmpty()) {
            out.append("<p>none</p>\n");
        } else {
            out.append("<table class=\"members\"><tr><th>#</th><th>address</th><th>state</th><th>serving</th>")
                    .append("<th>in flight</th></tr>\n");
            for (ChannelDiagnostics.MemberView member : channel.memberList()) {
                out.append("<tr><td>")
                        .append(member.id())
                        .append("</td><td><code>")
                        .append(escape(member.address()))
                        .append("</code></td><td>")
                        .append(escape(member.state()))
                        .append("</td><td>")
                        .append(member.serving() ? "yes" : "no")
                        .append("</td><td>")
                        .append(member.inflight())
                        .append("</td></tr>\n");
            }
            out.append("</table>\n");
        }
        out.append("</section>\n");
    }

    private static void errors(StringBuilder out, List<ChannelDiagnostics.ErrorView> errors) {
        if (errors.isEmpty()) {
            out.append("none");
            return;
        }
        out.append("<ul>");
        // Newest first, as people read them.
        for (int i = errors.size() - 1; i >= 0; i--) {
            out.append("<li>");
            error(out, errors.get(i));
            out.append("</li>");
        }
        out.append("</ul>");
    }

    private static void error(StringBuilder out, ChannelDiagnostics.ErrorView error) {
        out.append("<code>").append(escape(error.message())).append("</code>");
        if (error.count() > 1) {
            out.append(" &times;").append(error.count()).append(" since ").append(escape(error.first()));
        }
        out.append(", last ")
                .append(escape(error.last()))
                .append(" (")
                .append(error.lastAgoMillis())
                .append(" ms ago)");
    }

    /** Escapes text for HTML element content and quoted attribute values. */
    static String escape(@Nullable String text) {
        if (text == null) {
            return "";
        }
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String replacement = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> null;
            };
            if (replacement == null && (c >= ' ' || c == '\n' || c == '\t')) {
                if (out != null) {
                    out.append(c);
                }
                continue;
            }
            if (out == null) {
                out = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            // Other control characters have no business on the page: shown as U+FFFD.
            out.append(replacement != null ? replacement : "\uFFFD");
        }
        return out == null ? text : out.toString();
    }
}
