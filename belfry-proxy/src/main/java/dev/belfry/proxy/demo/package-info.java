/** The embedded demo: demo backends on loopback and the proxy in front of them. */
@NullMarked
package dev.belfry.proxy.demo;

import org.jspecify.annotations.NullMarked;
