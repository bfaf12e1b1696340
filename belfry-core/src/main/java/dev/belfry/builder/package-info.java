/**
 * {@link dev.belfry.builder.ServiceBuilder}: a stack of layers named in the order requests pass
 * through them, outermost first.
 *
 * <p>It sits in a package of its own, above every layer package it offers a shortcut for, so that
 * the foundation ({@code dev.belfry}: {@code Service}, {@code Layer}, the shared exceptions) depends
 * on no layer and no package of the core depends on one that depends on it.
 */
@NullMarked
package dev.belfry.builder;

import org.jspecify.annotations.NullMarked;
