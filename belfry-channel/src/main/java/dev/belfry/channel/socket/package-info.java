/**
 * Socket targets for warm pools: {@link dev.belfry.channel.socket.SocketTarget} parses {@code
 * unix:/path}, {@code ip:port} and {@code host:port} into an address source, and {@link
 * dev.belfry.channel.socket.DomainSockets} gives each {@code belfry-netty} transport's unix domain
 * socket classes and address form (epoll, io_uring and NIO all have them; a transport that is not
 * available here fails with a message naming the setting to change). See {@code docs/channels.md},
 * "unix: addresses".
 */
@NullMarked
package dev.belfry.channel.socket;

import org.jspecify.annotations.NullMarked;
