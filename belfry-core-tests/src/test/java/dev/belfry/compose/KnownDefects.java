package dev.belfry.compose;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The known composition defects of issue 12 whose shapes the generator leaves out, one switch
 * each, so the contract test stays green until they are fixed. Once a fix is merged, set its
 * switch to {@code false} (and enable its test in {@code ComposeDefectsTest}); the seeds that hit
 * it then run in full.
 *
 * <p>{@code -Dbelfry.compose.allow=1,3} generates the shapes of defects 1 and 3 whatever the
 * switches say: how to see which seeds a defect breaks, or to check a fix before flipping its
 * switch.
 */
final class KnownDefects {
    private KnownDefects() {}

    /**
     * Defect 1: a balancer's wait timer outlives the wait. It is stopped only when the caller's
     * future completes, so a waiter admitted and still running when {@code maxWait} passes fails
     * with {@code NoEndpointsException} (unprocessed) though it was sent, its answer is dropped
     * unclosed, and a retry above sends it again. Left out by raising every {@code maxWait} past
     * the length of any run ({@link #WAIT_LONGER_THAN_ANY_RUN_MS}): waiters still wait and are
     * admitted, but the timer never fires while a dispatched request runs.
     */
    static final boolean KNOWN_DEFECT_1_BALANCER_WAIT_TIMER = true;

    /**
     * Defect 2: a buffer stops draining for good when the service below reports READY while its
     * {@code tryCall} refuses (a steer, a load shed, a reconnect replaying its queue, a
     * consistent-hash balancer over its load bound). Left out by dropping each buffer that has
     * such a service below it.
     */
    static final boolean KNOWN_DEFECT_2_BUFFER_STALLS_ON_REFUSING_READY = true;

    /**
     * Defect 3: a caller's future never completes when a user predicate throws: the Peak-EWMA
     * pushback test, or the health monitor's failure test. Left out by not making them throw.
     */
    static final boolean KNOWN_DEFECT_3_THROWING_USER_PREDICATE = true;

    /**
     * Defect 4: an {@code Error} from user code on a balancer's serial executor (here: the connect
     * function on a discovery change) leaves its work counter raised, and discovery, waiters and
     * close stop for good. Left out by making the connect function not throw.
     */
    static final boolean KNOWN_DEFECT_4_SERIAL_EXECUTOR_ERROR = true;

    /**
     * Defect 5 (the consistent-hash ring's size overflowing an {@code int}) needs thousands of
     * endpoints of great weight; the generator's balancers have at most four endpoints of weight at
     * most 3, so it never reaches it, and only its focused test covers it. No switch.
     */
    static final int DEFECT_5_HAS_NO_SWITCH = 5;

    /** The {@code maxWait} used while defect 1 is left out: longer than any run moves the clock. */
    static final int WAIT_LONGER_THAN_ANY_RUN_MS = 3_600_000;

    private static final Set<Integer> ALLOWED = Arrays.stream(
                    System.getProperty("belfry.compose.allow", "").split(",", -1))
            .map(String::trim)
            .filter(text -> !text.isEmpty())
            .map(Integer::valueOf)
            .collect(Collectors.toUnmodifiableSet());

    /** Whether the shapes of known defect {@code n} are left out of generated scenarios. */
    static boolean excluded(int n) {
        if (ALLOWED.contains(n)) {
            return false;
        }
        return switch (n) {
            case 1 -> KNOWN_DEFECT_1_BALANCER_WAIT_TIMER;
            case 2 -> KNOWN_DEFECT_2_BUFFER_STALLS_ON_REFUSING_READY;
            case 3 -> KNOWN_DEFECT_3_THROWING_USER_PREDICATE;
            case 4 -> KNOWN_DEFECT_4_SERIAL_EXECUTOR_ERROR;
            default -> throw new IllegalArgumentException("no known defect " + n + " with a switch");
        };
    }
}
