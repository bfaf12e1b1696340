package dev.belfry.netty.transport;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty's epoll I/O handler with one defect of Netty 4.2.18 worked around: a socket whose interest
 * set became empty once is never watched again.
 *
 * <p><b>The defect.</b> Netty's epoll registration (the private {@code DefaultEpollIoRegistration}
 * in {@link EpollIoHandler}) removes a socket from the epoll set ({@code EPOLL_CTL_DEL}) when a
 * channel submits an empty interest set, but stays in its "added" state, so the next non-empty
 * interest set is submitted with {@code EPOLL_CTL_MOD}, which fails with {@code ENOENT}: the socket
 * is no longer in the set. A channel with auto-read off and half-closure allowed reaches an empty
 * set as soon as its peer's FIN is read: {@code EPOLLIN} is cleared (no read pending) and then
 * {@code EPOLLRDHUP} (handled once). The next write that has to wait for the socket to drain sets
 * {@code EPOLLOUT}, fails, and the channel loses the rest of what it was writing. A relay that
 * passes half-closure on (the proxy's L4 engine) hits this whenever a client sends its request
 * and FIN and then reads a response larger than the socket buffers.
 *
 * <p><b>The workaround.</b> Every registration this handler makes is wrapped: once a socket has
 * been added to the epoll set, an empty interest set is submitted as {@code EPOLLET} alone, which
 * keeps the socket in the set while asking for nothing (the kernel always adds {@code EPOLLERR} and
 * {@code EPOLLHUP}, and being edge-triggered reports each of those once instead of on every wait,
 * which is the endless wake-up Netty's removal was there to prevent). A later interest set then
 * modifies a socket that is still in the set. A registration never added (a socket not yet
 * connected) passes an empty set on unchanged, as before. The wrapper also skips submitting an
 * interest set equal to the one in force (Netty submits the same set twice when a connect
 * completes), an {@code epoll_ctl} call per backend connection.
 *
 * <p><b>Narrowing waits for the next epoll wait.</b> Netty changes an interest set one flag at a
 * time (a connected socket drops {@code EPOLLOUT} and then asks for {@code EPOLLIN}; a socket at
 * its peer's FIN drops {@code EPOLLIN} and then {@code EPOLLRDHUP}), an {@code epoll_ctl} call each.
 * A set that only drops events is therefore kept here and given to the kernel just before the
 * event loop next waits on epoll (and after it has handled the events it took), unless the channel
 * widens it again (submitted at once, with the narrowing folded in), asks for what is in force, or
 * closes first (nothing to submit). The kernel may report a dropped event until then only in a
 * wait that happens after the submission, so channels see the same events as before; events the
 * loop already took from the kernel are handled as they always were. For the proxy's relay this
 * saves two of its six {@code epoll_ctl} calls per proxied connection. Everything else is Netty's.
 *
 * <p>Netty also wraps registrations (in its event loop), so channels never depend on the class of
 * the registration they hold.
 *
 * <p><b>Thread-safety.</b> Netty submits interest sets only from the channel's event loop; the
 * wrapper's state and the handler's list of narrowed registrations are confined to it.
 */
final class EpollRegistrations {
    private static final Logger LOG = LoggerFactory.getLogger(EpollRegistrations.class);

    private EpollRegistrations() {}

    /** A factory of Netty's epoll I/O handlers whose registrations keep sockets in the epoll set. */
    static IoHandlerFactory factory() {
        IoHandlerFactory netty = EpollIoHandler.newFactory();
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor executor) {
                return new Handler(netty.newHandler(executor));
            }

            @Override
            public boolean isChangingThreadSupported() {
                return netty.isChangingThreadSupported();
            }
        };
    }

    /** Netty's handler, with its registrations wrapped. */
    private static final class Handler implements IoHandler {
        private final IoHandler inner;
        // Registrations with an interest set narrowed since the last wait, not yet given to epoll.
        private final ArrayList<Registration> narrowed = new ArrayList<>();

        Handler(IoHandler inner) {
            this.inner = inner;
        }

        @Override
        public void initialize() {
            inner.initialize();
        }

        @Override
        public int run(IoHandlerContext context) {
            // Before the wait (tasks since the last run may have narrowed sets) and after the
            // events are handled: the kernel's sets are right whenever epoll is waited on.
            submitNarrowed();
            int handled = inner.run(context);
            submitNarrowed();
            return handled;
        }

        private void submitNarrowed() {
            if (narrowed.isEmpty()) {
                return;
            }
            for (int i = 0; i < narrowed.size(); i++) {
                narrowed.get(i).submitNarrowed();
            }
            narrowed.clear();
        }

        @Override
        public void prepareToDestroy() {
            inner.prepareToDestroy();
        }

        @Override
        public void destroy() {
            inner.destroy();
        }

        @Override
        public IoRegistration register(IoHandle handle) throws Exception {
            return new Registration(inner.register(handle), narrowed);
        }

        @Override
        public void wakeup() {
            inner.wakeup();
        }

        @Override
        public boolean isCompatible(Class<? extends IoHandle> handleType) {
            return inner.isCompatible(handleType);
        }
    }

    /**
     * Netty's registration, with an empty interest set kept in the epoll set once added, an
     * interest set equal to the one in force not submitted again, and a narrowed set submitted
     * only before the next wait (when a list for that is given).
     */
    static final class Registration implements IoRegistration {
        private final IoRegistration inner;
        // The handler's list of registrations whose narrowed set waits for the next epoll wait; null
        // to submit every change at once.
        private final @Nullable List<Registration> narrowedList;
        // Whether Netty has added the socket to the epoll set (submitted a non-empty interest set).
        private boolean added;
        // The events last given to the kernel for this socket, while added.
        private int inForce;
        // A narrower set than inForce, asked for and not yet given to the kernel; null if none.
        private @Nullable EpollIoOps narrowed;

        Registration(IoRegistration inner) {
            this(inner, null);
        }

        Registration(IoRegistration inner, @Nullable List<Registration> narrowedList) {
            this.inner = inner;
            this.narrowedList = narrowedList;
        }

        @Override
        @SuppressWarnings("TypeParameterUnusedInFormals") // the signature is Netty's interface's
        public <T> T attachment() {
            return inner.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            EpollIoOps wanted = (EpollIoOps) ops;
            int value = wanted.value();
            if (value == 0) {
                if (!added) {
                    return inner.submit(ops); // not in the epoll set yet: Netty does nothing
                }
                // In the set: stay there, edge-triggered with no interest (see the class comment).
                value = EpollIoOps.EPOLLET.value();
                wanted = EpollIoOps.EPOLLET;
            }
            int reported = value == EpollIoOps.EPOLLET.value() ? 0 : value;
            if (added && inner.isValid()) {
                if (value == inForce) {
                    // Netty asks again for what is in force (as when a connect completes), or
                    // for what was in force before a narrowing not yet submitted: nothing to do.
                    narrowed = null;
                    return reported;
                }
                List<Registration> list = narrowedList;
                if (list != null && (events(value) & ~events(inForce)) == 0) {
                    // Only fewer events: the kernel may keep reporting them until the next wait
                    // (events already taken from it are handled as they would be anyway), and by
                    // then the channel has often narrowed again, or widened, or closed.
                    if (narrowed == null) {
                        list.add(this);
                    }
                    narrowed = wanted;
                    return reported;
                }
            }
            narrowed = null;
            long submitted = inner.submit(wanted);
            if (submitted != -1) { // -1: cancelled (EPOLLET alone is a negative value)
                added = true;
                inForce = value;
            }
            return value == EpollIoOps.EPOLLET.value() ? 0 : submitted;
        }

        // The events of a set, without the edge-triggered flag that stands for the empty set.
        private static int events(int value) {
            return value & ~EpollIoOps.EPOLLET.value();
        }

        /** Gives the kernel a narrowed set asked for since the last wait, if still wanted. */
        void submitNarrowed() {
            EpollIoOps ops = narrowed;
            narrowed = null;
            if (ops == null || !inner.isValid() || ops.value() == inForce) {
                return; // closed meanwhile, or widened back
            }
            try {
                if (inner.submit(ops) != -1) {
                    inForce = ops.value();
                }
            } catch (UncheckedIOException e) {
                // The channel closed its descriptor without cancelling first; nothing to watch.
                LOG.debug("cannot narrow the epoll interest set of a socket", e);
            }
        }

        @Override
        public boolean isValid() {
            return inner.isValid();
        }

        @Override
        public boolean cancel() {
            return inner.cancel();
        }
    }
}
