package dev.belfry.http.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.test.NoNettyLeaks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The HTTP/2 idle and header-block timers, on an embedded channel whose time the test moves. */
@ExtendWith(NoNettyLeaks.class)
class Http2TimeoutsTest {
    private static final Duration IDLE = Duration.ofSeconds(1);
    private static final Duration HEADER = Duration.ofMillis(500);
    private static final int GOAWAY = 0x7;

    // HPACK: :method GET, :scheme http, :path /, then :authority "localhost" as a literal.
    private static final byte[] BLOCK = {
        (byte) 0x82, (byte) 0x86, (byte) 0x84, 0x41, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'
    };

    private final EmbeddedChannel channel = new EmbeddedChannel();

    private void start() {
        channel.freezeTime();
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer().build();
        channel.pipeline().addLast(new Http2Timeouts(codec, IDLE, HEADER), codec);
        feed(concat(bytes(Http2CodecUtil.connectionPrefaceBuf()), frame(0x4, 0, 0, new byte[0])));
    }

    @AfterEach
    void release() {
        channel.finishAndReleaseAll();
    }

    private static byte[] frame(int type, int flags, int stream, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(payload.length >>> 16);
        out.write(payload.length >>> 8);
        out.write(payload.length);
        out.write(type);
        out.write(flags);
        out.write(stream >>> 24);
        out.write(stream >>> 16);
        out.write(stream >>> 8);
        out.write(stream);
        out.writeBytes(payload);
        return out.toByteArray();
    }

    private static byte[] bytes(ByteBuf buffer) {
        byte[] copy = new byte[buffer.readableBytes()];
        buffer.getBytes(buffer.readerIndex(), copy);
        return copy;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private void feed(byte[] data) {
        channel.writeInbound(Unpooled.wrappedBuffer(data));
    }

    /** Feeds {@code data} one byte per read, as a slow or hostile client might send it. */
    private void feedByteByByte(byte[] data) {
        for (byte b : data) {
            feed(new byte[] {b});
        }
    }

    private void advance(Duration duration) {
        channel.advanceTimeBy(duration.toNanos(), TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    /** A frame the server wrote: its type, and for a GOAWAY its error code and debug text. */
    private record Written(int type, int error, String debug) {}

    /** The frames the server wrote since the last call. */
    private List<Written> written() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (Object message; (message = channel.readOutbound()) != null; ) {
            all.writeBytes(bytes((ByteBuf) message));
            ReferenceCountUtil.release(message);
        }
        byte[] out = all.toByteArray();
        List<Written> frames = new ArrayList<>();
        for (int at = 0; at + 9 <= out.length; ) {
            int length = ((out[at] & 0xff) << 16) | ((out[at + 1] & 0xff) << 8) | (out[at + 2] & 0xff);
            int type = out[at + 3] & 0xff;
            if (type == GOAWAY) {
                int error = readInt(out, at + 9 + 4);
                frames.add(new Written(type, error, new String(out, at + 17, length - 8, StandardCharsets.UTF_8)));
            } else {
                frames.add(new Written(type, -1, ""));
            }
            at += 9 + length;
        }
        return frames;
    }

    private static int readInt(byte[] data, int at) {
        return ((data[at] & 0xff) << 24)
                | ((data[at + 1] & 0xff) << 16)
                | ((data[at + 2] & 0xff) << 8)
                | (data[at + 3] & 0xff);
    }

    private static List<Written> goAways(List<Written> frames) {
        return frames.stream().filter(frame -> frame.type() == GOAWAY).toList();
    }

    @Test
    void aConnectionWithNoStreamIsClosedWithGoAwayNoErrorAtExactlyTheIdleTimeout() {
        start();
        written();

        advance(IDLE.minusNanos(1));
        assertThat(channel.isOpen()).isTrue();
        assertThat(goAways(written())).isEmpty();

        advance(Duration.ofNanos(1));
        assertThat(goAways(written())).extracting(Written::error).containsExactly(0x0);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void anUnfinishedHeaderBlockGetsGoAwayEnhanceYourCalmAtExactlyTheHeaderTimeout() {
        start();
        written();
        // HEADERS without END_HEADERS (flags: END_STREAM only), sent in single bytes.
        feedByteByByte(frame(0x1, 0x1, 1, new byte[] {(byte) 0x82, (byte) 0x86}));

        advance(HEADER.minusNanos(1));
        assertThat(channel.isOpen()).isTrue();
        assertThat(goAways(written())).isEmpty();

        advance(Duration.ofNanos(1));
        assertThat(goAways(written()))
                .containsExactly(new Written(GOAWAY, 0xb, "header block not completed within 500 ms"));
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void aBlockFinishedByContinuationInTimeCancelsTheHeaderTimerAndTheStreamStopsTheIdleTimer() {
        start();
        byte[] first = {BLOCK[0], BLOCK[1], BLOCK[2]};
        byte[] rest = new byte[BLOCK.length - 3];
        System.arraycopy(BLOCK, 3, rest, 0, rest.length);
        // HEADERS (no END_HEADERS, no END_STREAM), then CONTINUATION with END_HEADERS, byte by byte.
        feedByteByByte(concat(frame(0x1, 0x0, 1, first), frame(0x9, 0x4, 1, rest)));
        advance(HEADER.minusNanos(1));
        List<Object> inbound = new ArrayList<>();
        for (Object message; (message = channel.readInbound()) != null; ) {
            inbound.add(message);
            ReferenceCountUtil.release(message);
        }
        assertThat(inbound).as("the codec decoded the whole block").hasAtLeastOneElementOfType(Http2HeadersFrame.class);

        advance(IDLE.multipliedBy(10));
        assertThat(channel.isOpen()).as("a stream is open: neither timer fires").isTrue();
        assertThat(goAways(written())).isEmpty();
    }

    @Test
    void theIdleTimeoutCountsFromTheLastStreamsCloseNotFromWhenTheTimerWasFirstSet() {
        start();
        written();
        advance(IDLE.dividedBy(2));
        // A request (HEADERS with END_HEADERS and END_STREAM) answered at once: the stream opens
        // and closes half-way through the first idle period.
        feed(frame(0x1, 0x5, 1, BLOCK));
        Object request = channel.readInbound();
        while (!(request instanceof Http2HeadersFrame)) {
            assertThat(request).as("the request's HEADERS").isNotNull();
            ReferenceCountUtil.release(request); // SETTINGS and its acknowledgement
            request = channel.readInbound();
        }
        channel.writeOutbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("204"), true)
                .stream(((Http2HeadersFrame) request).stream()));
        ReferenceCountUtil.release(request);
        written();

        advance(IDLE.dividedBy(2));
        assertThat(channel.isOpen())
                .as("the first idle deadline has passed, but not the new one")
                .isTrue();
        advance(IDLE.dividedBy(2).minusNanos(1));
        assertThat(channel.isOpen()).isTrue();
        assertThat(goAways(written())).isEmpty();

        advance(Duration.ofNanos(1));
        assertThat(goAways(written())).extracting(Written::error).containsExactly(0x0);
        assertThat(channel.isOpen()).isFalse();
    }
}
