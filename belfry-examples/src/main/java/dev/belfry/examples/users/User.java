package dev.belfry.examples.users;

/** A user as the API shows it. */
public record User(long id, String name, String email) {}
