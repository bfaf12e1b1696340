package dev.belfry.proxy;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.encoder.Encoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Writes log lines to {@code System.err} from a thread of its own, all the lines that queued since
 * the last write in one write, so that the proxy's event loops do not make a system call per
 * access-log line.
 *
 * <p>The logging thread only formats the message (so that the line says what was true when it was
 * logged) and queues the event; the writer thread encodes queued events with the {@linkplain
 * #setEncoder encoder} and writes them every {@linkplain #setFlushMillis flush interval} (10 ms by
 * default) while lines come, backing off to ten times that while none do. Logging never blocks and
 * never wakes the writer: when {@linkplain #setQueueSize queueSize} events (8192 by default) are
 * waiting, further events are dropped, and the writer then writes a line saying how many. {@link
 * #stop()} writes everything queued before it returns, so stopping the logger context (as {@code
 * Main} does before exiting, and logback's shutdown hook does on a signal) loses nothing.
 *
 * <p>Measured in the close scenario of {@code bench/compare.sh} (docs/proxy-benchmarks.md):
 * writing each line synchronously cost the event loop a {@code write} per connection.
 */
public final class StderrBatchAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    private static final int MAX_BATCH = 1024;

    private @Nullable Encoder<ILoggingEvent> encoder;
    private int queueSize = 8192;
    private long flushMillis = 10;
    // Lock-free, so that a logging event loop never waits for the writer (a lock the writer holds
    // while it drains would make the event loop park and be woken: two futex calls); bounded by
    // `waiting`, which counts events offered and not yet taken.
    private @Nullable ConcurrentLinkedQueue<ILoggingEvent> queue;
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean stopping;
    private @Nullable Thread writer;
    private final Supplier<PrintStream> target;

    /** An appender writing to {@code System.err} as it is at each write. */
    public StderrBatchAppender() {
        this(() -> System.err);
    }

    StderrBatchAppender(Supplier<PrintStream> target) {
        this.target = target;
    }

    /** Sets how each event becomes bytes (a pattern or JSON encoder); required. */
    public void setEncoder(Encoder<ILoggingEvent> encoder) {
        this.encoder = encoder;
    }

    /** Sets how many events may wait for the writer before new ones are dropped; at least 1. */
    public void setQueueSize(int queueSize) {
        this.queueSize = queueSize;
    }

    /** Sets how often, in milliseconds, the writer writes while lines come; at least 1. */
    public void setFlushMillis(long flushMillis) {
        this.flushMillis = flushMillis;
    }

    /** The number of events dropped since the last report line (for tests). */
    long droppedSinceReport() {
        return dropped.get();
    }

    @Override
    public void start() {
        if (isStarted()) {
            return;
        }
        if (encoder == null) {
            addError("no encoder set for the appender named \"" + name + "\"");
            return;
        }
        if (queueSize < 1 || flushMillis < 1) {
            addError("queueSize and flushMillis must be at least 1, got " + queueSize + " and " + flushMillis);
            return;
        }
        queue = new ConcurrentLinkedQueue<>();
        waiting.set(0);
        stopping = false;
        Thread thread = new Thread(this::writeLoop, "belfry-log-writer");
        thread.setDaemon(true);
        writer = thread;
        super.start();
        thread.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        ConcurrentLinkedQueue<ILoggingEvent> events = queue;
        if (events == null) {
            return;
        }
        // The message is formatted here, on the logging thread, as its arguments are at this moment.
        event.prepareForDeferredProcessing();
        // No lock and no signal: the writer polls, it does not wait on the queue, so a busy event
        // loop makes no system call per line.
        if (waiting.getAndIncrement() >= queueSize) {
            waiting.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        events.offer(event);
    }

    /** Stops taking events, writes every event already queued, and returns (within 5 s). */
    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        stopping = true;
        Thread thread = writer;
        if (thread != null) {
            LockSupport.unpark(thread);
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        writer = null;
        queue = null;
    }

    private void writeLoop() {
        ConcurrentLinkedQueue<ILoggingEvent> events = queue;
        Encoder<ILoggingEvent> encode = encoder;
        if (events == null || encode == null) {
            return;
        }
        List<ILoggingEvent> batch = new ArrayList<>(MAX_BATCH);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);
        long flush = TimeUnit.MILLISECONDS.toNanos(flushMillis);
        long idleNanos = flush;
        while (true) {
            // Wait first, so lines that come together are written together; stop() unparks.
            if (!stopping) {
                LockSupport.parkNanos(this, idleNanos);
            }
            boolean last = stopping;
            boolean wrote = false;
            while (drain(events, batch) > 0) {
                for (ILoggingEvent event : batch) {
                    try {
                        bytes.writeBytes(encode.encode(event));
                    } catch (RuntimeException e) {
                        addError("cannot encode a log event", e);
                    }
                }
                batch.clear();
                write(bytes);
                wrote = true;
            }
            long lost = dropped.getAndSet(0);
            if (lost > 0) {
                bytes.writeBytes(("belfry: " + lost + " log lines dropped: the log writer could not keep up\n")
                        .getBytes(StandardCharsets.UTF_8));
                write(bytes);
            }
            if (last) {
                return;
            }
            idleNanos = wrote ? flush : Math.min(idleNanos * 2, 10 * flush);
        }
    }

    /** Moves up to {@value #MAX_BATCH} queued events into {@code batch}; returns how many. */
    private int drain(ConcurrentLinkedQueue<ILoggingEvent> events, List<ILoggingEvent> batch) {
        int taken = 0;
        ILoggingEvent event;
        while (taken < MAX_BATCH && (event = events.poll()) != null) {
            batch.add(event);
            taken++;
        }
        waiting.addAndGet(-taken);
        return taken;
    }

    private void write(ByteArrayOutputStream bytes) {
        // One write of everything batched (PrintStream passes a large write straight through).
        PrintStream err = target.get();
        try {
            bytes.writeTo(err);
        } catch (IOException e) {
            addError("cannot write to stderr", e);
        }
        err.flush();
        bytes.reset();
    }
}
