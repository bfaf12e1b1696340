/**
 * The test kit: a manual clock, a scriptable mock service and contract tests for layers.
 */
@NullMarked
package dev.belfry.test;

import org.jspecify.annotations.NullMarked;
