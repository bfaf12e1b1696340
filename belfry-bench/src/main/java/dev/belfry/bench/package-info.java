/** JMH benchmarks of Belfry's layers against the bare service and against peer libraries. */
@NullMarked
package dev.belfry.bench;

import org.jspecify.annotations.NullMarked;
