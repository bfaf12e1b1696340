package dev.belfry.test;

/**
 * Something a test can check for leftovers when it ends: unanswered requests, pending timers,
 * permits not returned.
 *
 * <p>Fields of this type on a test class extended with {@link VerifyAfterEach} are verified after
 * every test, so a test cannot pass while leaving work behind.
 */
@FunctionalInterface
public interface Verifiable {
    /** Throws {@link AssertionError} describing what was left behind, if anything. */
    void verify();
}
