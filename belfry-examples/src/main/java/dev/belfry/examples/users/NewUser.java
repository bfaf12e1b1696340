package dev.belfry.examples.users;

import org.jspecify.annotations.Nullable;

/** A {@code POST /api/v1/users} body; checked by {@link UsersApi}, so its fields may be missing. */
public record NewUser(@Nullable String name, @Nullable String email) {}
