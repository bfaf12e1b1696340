package dev.belfry.compose;

/**
 * A request in a composed run: a unique id, a key (coalescing, hashing and steering use it), and
 * whether it may be processed twice. The idempotent flag is the truth the at-most-once check holds
 * the stack to; layers are told it through their predicates, or not at all.
 */
record Req(int id, int key, boolean idempotent) {
    @Override
    public String toString() {
        return "r" + id + "(k" + key + (idempotent ? ", idempotent" : "") + ")";
    }
}
