package dev.belfry.http;

import dev.belfry.ServiceException;

/** A body was longer than a configured cap; a server answers 413 (Content Too Large) for it. */
public final class BodyTooLargeException extends ServiceException {
    private static final long serialVersionUID = 1L;

    private final long limit;

    public BodyTooLargeException(long limit) {
        super("body is larger than the limit of " + limit + " bytes");
        this.limit = limit;
    }

    /** The cap in bytes that was exceeded. */
    public long limit() {
        return limit;
    }
}
