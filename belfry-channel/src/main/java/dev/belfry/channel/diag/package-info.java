/**
 * The {@code /debug/channels} diagnostics page: {@link dev.belfry.channel.diag.ChannelDiagnostics}
 * is a {@code belfry-http} service, mountable on any server's router, that shows every pool of a
 * {@link dev.belfry.channel.ChannelRegistry} (state, addresses with their errors and backoff,
 * members) as HTML for people and JSON for scripts. See {@code docs/channels.md}, "The diagnostics
 * page".
 */
@NullMarked
package dev.belfry.channel.diag;

import org.jspecify.annotations.NullMarked;
