// The Kotlin idiom for idflow's errors: an exception hierarchy shaped like
// MSAL for Java's, built from the core's decision (`ErrorInfo`). Nothing here
// decides anything: the class comes from `info.kotlin.className`, the cause
// from `info.kotlin.cause` and the reason from `info.classification`.

@file:JvmName("IdFlowExceptions")

package dev.idflow

import dev.idflow.ffi.AuthException
import dev.idflow.ffi.RecommendedAction
import java.net.ConnectException
import java.net.NoRouteToHostException
import java.net.SocketException
import java.net.SocketTimeoutException
import java.net.UnknownHostException
import java.util.Collections
import java.util.TreeMap
import javax.net.ssl.SSLException

/**
 * Every failure idflow reports. Catch this to handle them all; catch a
 * subclass to handle one family. Unchecked, so Java callers are not forced
 * to declare it.
 *
 * What to do: follow [action] (retry, wait, sign in interactively, fix the
 * configuration, contact an admin, check the network); show or log
 * [mitigation]; branch on [errorCode] only, never on [message], which is for
 * people. Log [correlationId] when reporting a problem to Microsoft.
 *
 * [info] holds the whole decision, including the Swift and Python views.
 */
open class IdFlowException(
    /** The core's full decision for this failure. */
    val info: ErrorInfo,
    cause: Throwable? = null,
) : RuntimeException(info.message, cause) {
    /** The OAuth `error` (`invalid_grant`, …) or an idflow code (`state_mismatch`, …). Stable. */
    val errorCode: String = info.code

    /** The request's correlation id, when known: quote it when asking for support. */
    val correlationId: String? = info.correlationId

    /** What the app should do next. */
    val action: RecommendedAction = info.action

    /** One paragraph, safe to log or show to a developer, saying how to fix or avoid this. */
    val mitigation: String = info.mitigation

    /** True when the same request may succeed if retried (5xx, 408, 429, timeouts …). */
    val isRetryable: Boolean = info.retryable
}

/**
 * The app, its configuration or the local state is wrong, or the request never
 * got an HTTP answer. Retrying the same call will not help unless [isRetryable].
 *
 * What to do: for configuration codes, fix the app (see [mitigation]); for a
 * network failure, [cause] is the matching `java.net` exception
 * ([SocketTimeoutException], [UnknownHostException], [ConnectException],
 * [SocketException], [NoRouteToHostException] or [SSLException]): check
 * connectivity and retry; for `user_cancelled`, stop quietly.
 */
open class ClientException(info: ErrorInfo, cause: Throwable? = null) : IdFlowException(info, cause)

/**
 * The identity provider answered and said no, and an interactive sign-in will
 * not change that (`invalid_client`, `invalid_scope`, `server_error`, 5xx …).
 *
 * What to do: retry only if [isRetryable], and never before [retryAfterMs];
 * otherwise fix the app registration or request (see [mitigation] and
 * [errorDescription]). `catch (e: ServiceException)` also catches
 * [InteractionRequiredException] and [ThrottlingException]: catch those first
 * when they need different handling.
 */
open class ServiceException(info: ErrorInfo, cause: Throwable? = null) : IdFlowException(info, cause) {
    /** The HTTP status of the answer (for a [ThrottlingException], the answer that started the block), or 0. */
    val statusCode: Int = info.httpStatus?.toInt() ?: 0

    /** A claims challenge to pass to the next interactive request, if the server sent one. */
    val claims: String? = info.claims

    /** The server's `suberror` (`basic_action`, …), if any. Diagnostics; prefer [action]. */
    val subError: String? = info.suberror

    /** The AADSTS numbers the server sent (diagnostics: do not branch on them). */
    val errorCodes: List<Long> = Collections.unmodifiableList(ArrayList(info.errorCodes))

    /** The Retry-After the server sent, in milliseconds; null when it sent none. */
    val retryAfterMs: Long? = info.retryAfterSecs?.let(::secondsToMillis)

    /** The server's `error_description` (may hold an AADSTS message). */
    val errorDescription: String? = info.errorDescription

    /** The server's `trace_id`. */
    val traceId: String? = info.traceId

    /** The server's `timestamp`. */
    val timestamp: String? = info.timestamp

    private val headerMap: Map<String, List<String>> = groupHeaders(info.headers)

    /**
     * The response headers, every value of a repeated header in order. Read-only;
     * names are matched case-insensitively (`"Retry-After"` finds `retry-after`).
     */
    fun headers(): Map<String, List<String>> = headerMap
}

/**
 * Only an interactive sign-in can fix this: the refresh token is revoked or
 * expired, MFA or consent is needed, the password expired …
 *
 * What to do: call the interactive flow, passing [claims] when present; [reason]
 * says why (tell the user about [InteractionRequiredReason.USER_PASSWORD_EXPIRED],
 * expect a consent page for [InteractionRequiredReason.CONSENT_REQUIRED]).
 * Do not retry the silent call: it will fail the same way.
 */
class InteractionRequiredException(info: ErrorInfo, cause: Throwable? = null) : ServiceException(info, cause) {
    /** Why interaction is needed (MSAL.NET's classification). */
    val reason: InteractionRequiredReason = InteractionRequiredReason.of(info.classification)
}

/**
 * idflow blocked this request locally, without sending it, because the same
 * request failed moments ago and the service asked clients to back off. (A 429
 * from the service itself is a [ServiceException] with [retryAfterMs].) It
 * carries the original failure's [errorCode], [statusCode], [headers],
 * [subError], [claims] and correlation id, as MSAL's throttled exceptions do.
 *
 * What to do: wait [retryInMs] (the time left) before sending the same request
 * again; serve cached tokens meanwhile. When the original failure asked for an
 * interactive sign-in ([action] is `AcquireInteractively`), sign in
 * interactively: that lifts the block at once.
 */
class ThrottlingException(info: ErrorInfo, cause: Throwable? = null) : ServiceException(info, cause) {
    /** How long to wait before retrying, in milliseconds; 0 when the core gave no time. */
    val retryInMs: Long = retryAfterMs ?: 0L
}

/**
 * Why an [InteractionRequiredException] was raised: MSAL.NET's
 * UiRequiredExceptionClassification, in the same order.
 */
enum class InteractionRequiredReason {
    /** No finer reason: sign in interactively. */
    NONE,

    /** The user must read a message in the browser; nothing else is asked of them. */
    MESSAGE_ONLY,

    /** A simple step (such as MFA) is needed: sign in interactively. */
    BASIC_ACTION,

    /** The user must do something outside the sign-in page (e.g. register a device). */
    ADDITIONAL_ACTION,

    /** The user or an admin must consent: the interactive sign-in shows a consent page. */
    CONSENT_REQUIRED,

    /** The password expired: the user must change it during the interactive sign-in. */
    USER_PASSWORD_EXPIRED,

    /** An authorize request with prompt=none could not complete silently: retry with a prompt. */
    PROMPT_NEVER_FAILED,

    /** There was no account or usable token for a silent call: sign in interactively. */
    ACQUIRE_TOKEN_SILENT_FAILED,
    ;

    companion object {
        /** The reason for the core's [Classification]. */
        @JvmStatic
        fun of(classification: Classification): InteractionRequiredReason =
            when (classification) {
                Classification.NONE -> NONE
                Classification.MESSAGE_ONLY -> MESSAGE_ONLY
                Classification.BASIC_ACTION -> BASIC_ACTION
                Classification.ADDITIONAL_ACTION -> ADDITIONAL_ACTION
                Classification.CONSENT_REQUIRED -> CONSENT_REQUIRED
                Classification.USER_PASSWORD_EXPIRED -> USER_PASSWORD_EXPIRED
                Classification.PROMPT_NEVER_FAILED -> PROMPT_NEVER_FAILED
                Classification.ACQUIRE_TOKEN_SILENT_FAILED -> ACQUIRE_TOKEN_SILENT_FAILED
            }
    }
}

/**
 * The idiomatic exception for this decision: the class the core chose
 * (`kotlin.className`), with the `java.net` cause it chose (`kotlin.cause`).
 */
fun ErrorInfo.toException(): IdFlowException {
    val view = this.kotlin
    val cause = view.cause?.let { javaCause(it, this.message) }
    return when (view.className) {
        KotlinClass.CLIENT_EXCEPTION -> ClientException(this, cause)
        KotlinClass.SERVICE_EXCEPTION -> ServiceException(this, cause)
        KotlinClass.INTERACTION_REQUIRED_EXCEPTION -> InteractionRequiredException(this, cause)
        KotlinClass.THROTTLING_EXCEPTION -> ThrottlingException(this, cause)
    }
}

/** The `java.net` (or `javax.net.ssl`) exception the core named, carrying [message]. */
internal fun javaCause(cause: JavaCause, message: String): Exception =
    when (cause) {
        JavaCause.SOCKET_TIMEOUT_EXCEPTION -> SocketTimeoutException(message)
        JavaCause.UNKNOWN_HOST_EXCEPTION -> UnknownHostException(message)
        JavaCause.CONNECT_EXCEPTION -> ConnectException(message)
        JavaCause.SOCKET_EXCEPTION -> SocketException(message)
        JavaCause.NO_ROUTE_TO_HOST_EXCEPTION -> NoRouteToHostException(message)
        JavaCause.SSL_EXCEPTION -> SSLException(message)
    }

/** The decision carried by any generated error variant. */
internal val AuthException.info: ErrorInfo
    get() =
        when (this) {
            is AuthException.Client -> info
            is AuthException.Service -> info
            is AuthException.InteractionRequired -> info
            is AuthException.Network -> info
            is AuthException.Throttled -> info
            is AuthException.Cancelled -> info
        }

private fun secondsToMillis(seconds: ULong): Long =
    if (seconds > (Long.MAX_VALUE / 1000).toULong()) Long.MAX_VALUE else seconds.toLong() * 1000

private fun groupHeaders(headers: List<Header>): Map<String, List<String>> {
    val grouped = TreeMap<String, MutableList<String>>(String.CASE_INSENSITIVE_ORDER)
    for (h in headers) grouped.getOrPut(h.name) { ArrayList() }.add(h.value)
    val frozen = TreeMap<String, List<String>>(String.CASE_INSENSITIVE_ORDER)
    for ((name, values) in grouped) frozen[name] = Collections.unmodifiableList(values)
    return Collections.unmodifiableMap(frozen)
}
