package dev.belfry.hedge;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/** The validated settings every hedge of one {@link HedgeLayer} shares. */
record HedgeSettings<Req>(
        Predicate<? super Req> idempotent,
        Function<? super Req, Optional<Req>> copy,
        double percentile,
        int maxExtra,
        Duration window,
        int minSamples) {}
