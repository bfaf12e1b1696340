/**
 * Map: rewrites requests, responses and failures on their way through, and chains an asynchronous
 * step after a response.
 *
 * <ul>
 *   <li>{@link dev.belfry.map.MapRequest}: a function from the caller's request to the inner
 *       service's (add a header, convert a domain object to a wire message).
 *   <li>{@link dev.belfry.map.MapResponse}: a function from the inner response to the caller's
 *       (decode, project). Failures skip it.
 *   <li>{@link dev.belfry.map.MapError}: a function from the inner failure (unwrapped) to the one the
 *       caller sees. Successes and cancellation skip it.
 *   <li>{@link dev.belfry.map.AndThen}: an asynchronous step after a successful response (stream a
 *       body, fetch a related record); cancelling the call cancels the step.
 * </ul>
 *
 * <pre>{@code
 * Service<UserId, User> users = ServiceBuilder.<UserId, User>builder()
 *     .layer(MapResponseLayer.of(User::fromJson))     // HttpResponse -> User
 *     .layer(MapRequestLayer.of(UserId::toRequest))   // UserId -> HttpRequest
 *     .service(http);
 * }</pre>
 *
 * <p><b>Layer order.</b> A mapping changes what the layers inside it see: layers added after a
 * {@code MapRequest} see the rewritten request, layers added before it the original. A {@code
 * MapError} rewrites only the failures of the layers added after it, so add it first to translate
 * the failures of the whole stack (timeouts and overloads included), or last to translate only the
 * inner service's. Added before a retry, a {@code MapResponse} or {@code AndThen} runs once on the
 * final response; added after it, on every attempt, and a failure it raises is one the retry can
 * see. A retry or timeout outside an {@code AndThen} covers the step's time.
 *
 * <p><b>Errors.</b> None of their own. A function that throws fails the call with that exception
 * (it never escapes {@code call}); a function that returns {@code null} where a failure or a stage
 * is expected fails the call with a {@link java.lang.NullPointerException}. Inner failures pass
 * through unchanged, except through {@code MapError}, whose purpose is to change them.
 *
 * <p><b>Admission and thread-safety.</b> {@code readiness}, {@code whenReady}, {@code tryCall} and
 * {@code close} go straight to the inner service; a {@code MapRequest} applies its function before
 * the inner {@code tryCall}, which may still decline. The services are thread-safe if their
 * functions are. Functions run on the caller's thread (requests) or on the thread that completes
 * the inner call (responses, failures, steps), so they must not block.
 */
@NullMarked
package dev.belfry.map;

import org.jspecify.annotations.NullMarked;
