package dev.belfry.proxy;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Installs handlers for POSIX signals (TERM, INT, HUP) through the JDK's {@code sun.misc.Signal}.
 *
 * <p>Reached by reflection: the class lives in {@code jdk.unsupported}, which every JDK ships but
 * javac warns about. A JVM without it (or a signal the platform lacks) is reported and skipped, so
 * the proxy still runs; only the signal's action is unavailable.
 */
final class Signals {
    private static final Logger LOG = LoggerFactory.getLogger(Signals.class);

    private Signals() {}

    /**
     * Runs {@code action} on its own thread each time {@code name} (e.g. "HUP") arrives; returns
     * whether the handler is in place.
     *
     * <p>A signal this process was started with ignored (HUP under {@code nohup}, INT for a
     * background job of a shell script) stays ignored: the JVM does not take it over. That is
     * logged as a warning naming {@code what} is lost and {@code otherwise}, what to do instead.
     */
    static boolean on(String name, String what, String otherwise, Runnable action) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Constructor<?> constructor = signalClass.getConstructor(String.class);
            Object signal = constructor.newInstance(name);
            InvocationHandler invocation = (proxy, method, args) -> {
                if (method.getName().equals("handle")) {
                    Thread.ofPlatform().name("belfry-signal-" + name).start(action);
                    return null;
                }
                return switch (method.getName()) {
                    case "toString" -> "belfry handler for SIG" + name;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> args != null && System.identityHashCode(proxy) == System.identityHashCode(args[0]);
                    default -> throw new UnsupportedOperationException(method.getName());
                };
            };
            Object handler =
                    Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerClass}, invocation);
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            Object previous = handle.invoke(null, signal, handler);
            if (previous != null
                    && previous.equals(handlerClass.getField("SIG_IGN").get(null))) {
                LOG.warn(
                        "SIG{} is ignored by this process (it was started with SIG{} ignored, as nohup"
                                + " does for HUP), so it will not {}; {}",
                        name,
                        name,
                        what,
                        otherwise);
                return false;
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.warn("cannot handle SIG{} on this JVM ({}); that signal keeps its default action", name, e.toString());
            return false;
        }
    }
}
