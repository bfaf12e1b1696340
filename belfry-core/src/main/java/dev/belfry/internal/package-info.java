/**
 * Implementation pieces shared by the core's layers. Not API: names and shapes may change.
 */
@NullMarked
package dev.belfry.internal;

import org.jspecify.annotations.NullMarked;
