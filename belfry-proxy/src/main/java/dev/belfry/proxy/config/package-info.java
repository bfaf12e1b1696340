/**
 * The proxy's configuration: immutable, validated records read from TOML.
 *
 * <p>A {@link dev.belfry.proxy.config.ProxyConfig} is a snapshot. Reload reads and validates a new
 * one completely before anything changes; an invalid file leaves the running snapshot in place.
 * Every problem is reported as {@code FILE:LINE:COLUMN: message}.
 */
@NullMarked
package dev.belfry.proxy.config;

import org.jspecify.annotations.NullMarked;
