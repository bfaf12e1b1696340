/**
 * Parts of the HTTP implementation shared between its packages; not API, may change at any time.
 */
@NullMarked
package dev.belfry.http.internal;

import org.jspecify.annotations.NullMarked;
