/**
 * Socket-level pieces shared by the relay's listeners and the admin server: {@link
 * dev.belfry.proxy.net.AcceptErrors}, which keeps a listening socket open and its log readable when
 * accepting fails (out of file descriptors, for one).
 */
@NullMarked
package dev.belfry.proxy.net;

import org.jspecify.annotations.NullMarked;
