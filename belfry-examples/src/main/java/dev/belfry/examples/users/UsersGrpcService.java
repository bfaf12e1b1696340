package dev.belfry.examples.users;

import dev.belfry.Futures;
import dev.belfry.ServiceException;
import dev.belfry.examples.users.grpc.GetUserRequest;
import dev.belfry.examples.users.grpc.ListUsersRequest;
import dev.belfry.examples.users.grpc.UserServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The users API over gRPC: {@code GetUser} (through the same coalescing cache as {@code GET
 * /api/v1/users/{id}}) and {@code ListUsers}, server-streaming with flow control, over the same
 * {@link UsersApi} as the HTTP routes.
 *
 * <p>Errors: an id below 1 or a negative limit is {@code INVALID_ARGUMENT}, a missing user {@code
 * NOT_FOUND}, an unreachable database, an open circuit, an overload or a timed-out query {@code
 * UNAVAILABLE} (clients and warm channels retry that elsewhere or later), anything else {@code
 * INTERNAL} without the details.
 *
 * <p>{@code ListUsers} reads {@link #PAGE} users at a time and sends them only while the call
 * {@linkplain ServerCallStreamObserver#isReady() is ready}; it reads the next page once the last
 * one is sent. A client that stops reading stops the queries, so a slow reader of a big table holds
 * at most one page in memory.
 */
final class UsersGrpcService extends UserServiceGrpc.UserServiceImplBase {
    /** How many users {@code ListUsers} reads from the database at a time. */
    static final int PAGE = 100;

    private final UsersApi api;

    UsersGrpcService(UsersApi api) {
        this.api = api;
    }

    @Override
    public void getUser(GetUserRequest request, StreamObserver<dev.belfry.examples.users.grpc.User> response) {
        long id = request.getId();
        if (id < 1) {
            response.onError(Status.INVALID_ARGUMENT
                    .withDescription("id must be 1 or more, was " + id)
                    .asRuntimeException());
            return;
        }
        api.find(id).whenComplete((user, failure) -> {
            if (failure != null) {
                response.onError(status(failure));
            } else if (user.isEmpty()) {
                response.onError(
                        Status.NOT_FOUND.withDescription("no user " + id).asRuntimeException());
            } else {
                response.onNext(message(user.get()));
                response.onCompleted();
            }
        });
    }

    @Override
    public void listUsers(ListUsersRequest request, StreamObserver<dev.belfry.examples.users.grpc.User> response) {
        if (request.getAfterId() < 0 || request.getLimit() < 0) {
            response.onError(Status.INVALID_ARGUMENT
                    .withDescription("after_id and limit must not be negative")
                    .asRuntimeException());
            return;
        }
        var call = (ServerCallStreamObserver<dev.belfry.examples.users.grpc.User>) response;
        new Listing(call, request.getAfterId(), request.getLimit() == 0 ? Long.MAX_VALUE : request.getLimit()).start();
    }

    /**
     * One {@code ListUsers} call: a page in hand, sent while the call is ready. Its state is guarded
     * by {@code this}: the transport's onReady and onCancel callbacks and the page's completion (on
     * a virtual thread) all go through {@link #drain}, one at a time.
     */
    private final class Listing {
        private final ServerCallStreamObserver<dev.belfry.examples.users.grpc.User> call;
        private final ArrayDeque<User> page = new ArrayDeque<>();
        private long after;
        private long remaining;
        private boolean fetching;
        private boolean lastPage;
        private boolean done;

        Listing(ServerCallStreamObserver<dev.belfry.examples.users.grpc.User> call, long after, long remaining) {
            this.call = call;
            this.after = after;
            this.remaining = remaining;
        }

        void start() {
            call.setOnCancelHandler(() -> {
                synchronized (this) {
                    done = true;
                    page.clear();
                }
            });
            call.setOnReadyHandler(this::drain);
            drain();
        }

        synchronized void drain() {
            if (done) {
                return;
            }
            while (remaining > 0 && !page.isEmpty() && call.isReady()) {
                call.onNext(message(page.poll()));
                remaining--;
            }
            if (remaining == 0 || (page.isEmpty() && lastPage)) {
                done = true;
                call.onCompleted();
                return;
            }
            if (page.isEmpty() && !fetching) {
                fetching = true;
                int size = (int) Math.min(PAGE, remaining);
                api.page(after, size).whenComplete((users, failure) -> arrived(users, size, failure));
            }
        }

        private void arrived(List<User> users, int asked, Throwable failure) {
            synchronized (this) {
                fetching = false;
                if (done) {
                    return;
                }
                if (failure != null) {
                    done = true;
                    call.onError(status(failure));
                    return;
                }
                page.addAll(users);
                lastPage = users.size() < asked;
                if (!users.isEmpty()) {
                    after = users.get(users.size() - 1).id();
                }
            }
            drain();
        }
    }

    /** The status a failed database call becomes. */
    static StatusRuntimeException status(Throwable failure) {
        Throwable cause = Futures.unwrap(failure);
        if (cause instanceof DatabaseException || cause instanceof ServiceException) {
            // An open circuit, an overload, a timed-out query, an unreachable database: try later.
            return Status.UNAVAILABLE
                    .withDescription("the database is unavailable; try again later")
                    .withCause(cause)
                    .asRuntimeException();
        }
        return Status.INTERNAL
                .withDescription("internal error")
                .withCause(cause)
                .asRuntimeException();
    }

    private static dev.belfry.examples.users.grpc.User message(User user) {
        return dev.belfry.examples.users.grpc.User.newBuilder()
                .setId(user.id())
                .setName(user.name())
                .setEmail(user.email())
                .build();
    }
}
