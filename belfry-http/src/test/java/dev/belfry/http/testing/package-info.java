/** Helpers shared by the layers' tests. */
@NullMarked
package dev.belfry.http.testing;

import org.jspecify.annotations.NullMarked;
