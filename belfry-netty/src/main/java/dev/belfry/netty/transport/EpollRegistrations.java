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
 * completes), an {@code epoll_ctl} call per backend connection. Everything else is Netty's.
 *
 * <p>Netty also wraps registrations (in its event loop), so channels never depend on the class of
 * the registration they hold.
 *
 * <p><b>Thread-safety.</b> Netty submits interest sets only from the channel's event loop; the
 * wrapper's one flag is confined to it.
 */
final class EpollRegistrations {
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

        Handler(IoHandler inner) {
            this.inner = inner;
        }

        @Override
        public void initialize() {
            inner.initialize();
        }

        @Override
        public int run(IoHandlerContext context) {
            return inner.run(context);
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
            return new Registration(inner.register(handle));
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
     * Netty's registration, with an empty interest set kept in the epoll set once added, and an
     * interest set equal to the one in force not submitted again.
     */
    static final class Registration implements IoRegistration {
        private final IoRegistration inner;
        // Whether Netty has added the socket to the epoll set (submitted a non-empty interest set).
        private boolean added;
        // The events last given to the kernel for this socket, while added.
        private int inForce;

        Registration(IoRegistration inner) {
            this.inner = inner;
        }

        @Override
        @SuppressWarnings("TypeParameterUnusedInFormals") // the signature is Netty's interface's
        public <T> T attachment() {
            return inner.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            int value = ((EpollIoOps) ops).value();
            if (value == 0) {
                if (!added) {
                    return inner.submit(ops); // not in the epoll set yet: Netty does nothing
                }
                // In the set: stay there, edge-triggered with no interest (see the class comment).
                value = EpollIoOps.EPOLLET.value();
                ops = EpollIoOps.EPOLLET;
            }
            if (added && value == inForce && inner.isValid()) {
                // Netty asks again for what is in force (as when a connect completes): an
                // epoll_ctl call that would change nothing.
                return value == EpollIoOps.EPOLLET.value() ? 0 : value;
            }
            long submitted = inner.submit(ops);
            if (submitted != -1) { // -1: cancelled (EPOLLET alone is a negative value)
                added = true;
                inForce = value;
            }
            return value == EpollIoOps.EPOLLET.value() ? 0 : submitted;
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
