package dev.belfry.http.server;

import dev.belfry.http.Headers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.CharsetUtil;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Writes an HTTP/1.x response whose body is in hand (or absent) as bytes: status line, fields and
 * body in one buffer, with none of Netty's message objects, header maps or encoder in between. The
 * bytes are those Netty's {@code HttpResponseEncoder} writes for the same message (a field value's
 * characters one byte each, as its encoder does), so a client cannot tell the two paths apart.
 *
 * <p>The caller decides the fields (framing and {@code connection} included); this class only lays
 * them out. Field names and values come from {@link Headers}, which has already refused CR, LF and
 * NUL, so no field can split the head.
 */
final class WholeResponse {
    /** Bodies up to this size are copied behind the head; larger ones go out as a second buffer. */
    static final int COPY_LIMIT = 8 * 1024;

    private static final int FIRST_CACHED = 100;
    private static final int LAST_CACHED = 599;
    private static final byte[][] HTTP_11_LINES = statusLines(HttpVersion.HTTP_1_1);
    private static final byte[][] HTTP_10_LINES = statusLines(HttpVersion.HTTP_1_0);
    private static final short CRLF = ('\r' << 8) | '\n';
    private static final short COLON_SPACE = (':' << 8) | ' ';

    private WholeResponse() {}

    /**
     * A buffer holding the status line and {@code fields}, then {@code extra} name-value pairs (null
     * entries skipped), the blank line, and {@code body} when it is at most {@link #COPY_LIMIT}
     * bytes. Fields whose names {@code skip} accepts are left out of {@code fields}.
     */
    static ByteBuf head(
            ByteBufAllocator alloc,
            HttpVersion version,
            int status,
            Headers fields,
            Predicate<String> skip,
            @Nullable CharSequence[] extra,
            byte[] body) {
        byte[] line = statusLine(version, status);
        int size = line.length + 2;
        for (int i = 0; i < fields.size(); i++) {
            size += fields.name(i).length() + fields.value(i).length() + 4;
        }
        for (int i = 0; i + 1 < extra.length; i += 2) {
            CharSequence name = extra[i];
            CharSequence value = extra[i + 1];
            if (name != null && value != null) {
                size += name.length() + value.length() + 4;
            }
        }
        boolean copyBody = body.length <= COPY_LIMIT;
        if (copyBody) {
            size += body.length;
        }
        ByteBuf buf = alloc.buffer(size);
        buf.writeBytes(line);
        for (int i = 0; i < fields.size(); i++) {
            String name = fields.name(i);
            if (!skip.test(name)) {
                field(buf, name, fields.value(i));
            }
        }
        for (int i = 0; i + 1 < extra.length; i += 2) {
            CharSequence name = extra[i];
            CharSequence value = extra[i + 1];
            if (name != null && value != null) {
                field(buf, name, value);
            }
        }
        buf.writeShort(CRLF);
        if (copyBody) {
            buf.writeBytes(body);
        }
        return buf;
    }

    private static void field(ByteBuf buf, CharSequence name, CharSequence value) {
        buf.writeCharSequence(name, CharsetUtil.US_ASCII);
        buf.writeShort(COLON_SPACE);
        buf.writeCharSequence(value, CharsetUtil.US_ASCII);
        buf.writeShort(CRLF);
    }

    static byte[] statusLine(HttpVersion version, int status) {
        boolean cached = status >= FIRST_CACHED && status <= LAST_CACHED;
        if (cached && version.equals(HttpVersion.HTTP_1_1)) {
            return HTTP_11_LINES[status - FIRST_CACHED];
        }
        if (cached && version.equals(HttpVersion.HTTP_1_0)) {
            return HTTP_10_LINES[status - FIRST_CACHED];
        }
        return encodeStatusLine(version, status);
    }

    private static byte[][] statusLines(HttpVersion version) {
        byte[][] lines = new byte[LAST_CACHED - FIRST_CACHED + 1][];
        for (int status = FIRST_CACHED; status <= LAST_CACHED; status++) {
            lines[status - FIRST_CACHED] = encodeStatusLine(version, status);
        }
        return lines;
    }

    private static byte[] encodeStatusLine(HttpVersion version, int status) {
        HttpResponseStatus known = HttpResponseStatus.valueOf(status);
        return (version.text() + ' ' + known.codeAsText() + ' ' + known.reasonPhrase() + "\r\n")
                .getBytes(CharsetUtil.US_ASCII);
    }
}
