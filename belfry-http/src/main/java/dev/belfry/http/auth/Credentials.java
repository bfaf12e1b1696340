package dev.belfry.http.auth;

import dev.belfry.Checks;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Constant-time credential checks. Secrets are kept as SHA-256 digests, and a candidate is
 * compared with every one of them with {@link MessageDigest#isEqual} (which does not stop at the
 * first differing byte) without an early return, so neither a secret's length nor its prefix nor
 * its position in the list shows in the time taken.
 */
final class Credentials {
    private Credentials() {}

    /** Bearer tokens mapped to principal names. */
    static Authorizer bearer(Map<String, String> tokens) {
        Checks.notNull(tokens, "tokens");
        if (tokens.isEmpty()) {
            throw new IllegalArgumentException("bearer auth needs at least one token");
        }
        List<Entry> entries = new ArrayList<>();
        tokens.forEach((token, name) -> {
            if (Checks.notNull(token, "token").isEmpty()) {
                throw new IllegalArgumentException("a bearer token must not be empty");
            }
            entries.add(new Entry(digest(token), Checks.notNull(name, "principal name")));
        });
        List<Entry> frozen = List.copyOf(entries);
        return request -> {
            String token = credentials(request.header("authorization"), "bearer");
            String name = token == null ? null : match(frozen, digest(token));
            return java.util.concurrent.CompletableFuture.completedFuture(
                    name == null ? AuthDecision.unauthorized() : AuthDecision.allow(name));
        };
    }

    /** Users mapped to passwords; the principal is the user name. */
    static Authorizer basic(Map<String, String> users) {
        Checks.notNull(users, "users");
        if (users.isEmpty()) {
            throw new IllegalArgumentException("basic auth needs at least one user");
        }
        List<Entry> entries = new ArrayList<>();
        users.forEach((user, password) -> {
            if (Checks.notNull(user, "user").indexOf(':') >= 0) {
                throw new IllegalArgumentException("a basic-auth user name cannot contain ':', was '" + user + "'");
            }
            // One digest of "user:password": user and password are checked together, in one pass.
            entries.add(new Entry(digest(user + ":" + Checks.notNull(password, "password")), user));
        });
        List<Entry> frozen = List.copyOf(entries);
        return request -> {
            String encoded = credentials(request.header("authorization"), "basic");
            String pair = encoded == null ? null : decode(encoded);
            String name = pair == null || pair.indexOf(':') < 0 ? null : match(frozen, digest(pair));
            return java.util.concurrent.CompletableFuture.completedFuture(
                    name == null ? AuthDecision.unauthorized() : AuthDecision.allow(name));
        };
    }

    /** The credentials after {@code scheme} in an Authorization value, or null. Case-insensitive. */
    static @Nullable String credentials(@Nullable String authorization, String scheme) {
        if (authorization == null || authorization.length() <= scheme.length() + 1) {
            return null;
        }
        if (!authorization.regionMatches(true, 0, scheme, 0, scheme.length())
                || authorization.charAt(scheme.length()) != ' ') {
            return null;
        }
        String rest = authorization.substring(scheme.length() + 1).strip();
        return rest.isEmpty() ? null : rest;
    }

    private static @Nullable String decode(String encoded) {
        try {
            return new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static @Nullable String match(List<Entry> entries, byte[] candidate) {
        String found = null;
        for (Entry entry : entries) {
            // No early exit: every entry is compared, whatever matched before.
            if (MessageDigest.isEqual(entry.digest, candidate)) {
                found = entry.name;
            }
        }
        return found;
    }

    static byte[] digest(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static final class Entry {
        final byte[] digest;
        final String name;

        Entry(byte[] digest, String name) {
            this.digest = digest;
            this.name = name;
        }
    }
}
