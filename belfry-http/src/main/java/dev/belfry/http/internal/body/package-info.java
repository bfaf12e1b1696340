/**
 * Body wrappers the HTTP layers share: a {@link dev.belfry.http.internal.body.TransformedBody} runs
 * a stream of chunks through a {@link dev.belfry.http.internal.body.Transform} (count, cap,
 * compress, decompress) with demand passed through, and tells the transform once how the stream
 * ended. Not API; may change at any time.
 */
@NullMarked
package dev.belfry.http.internal.body;

import org.jspecify.annotations.NullMarked;
