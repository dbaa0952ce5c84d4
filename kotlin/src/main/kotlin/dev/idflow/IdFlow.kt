// The idiomatic entry points: the generated functions with plain JVM types,
// every generated AuthException rethrown as the IdFlowException the core chose
// (through the one translation point in Translate.kt).

package dev.idflow

import dev.idflow.ffi.Logger

/**
 * idflow for Kotlin and Java. Every method either returns the core's decision
 * as data or throws an [IdFlowException] subclass ([ClientException],
 * [ServiceException], [InteractionRequiredException], [ThrottlingException]);
 * none throws the generated `AuthException`.
 *
 * Misuse (an HTTP status outside 0..65535) throws [IllegalArgumentException].
 */
object IdFlow {
    /**
     * The decision for a token-endpoint (or authorize-redirect) response,
     * returned as data and never thrown. [flow] is the request it answered.
     */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun classifyResponse(status: Int, headers: List<Header>, body: ByteArray, flow: Flow): Classified =
        translated { dev.idflow.ffi.classifyResponse(httpStatus(status), headers, body, flow) }

    /**
     * Returns the decision when the response is a success; otherwise throws the
     * [IdFlowException] for it (a device-code `authorization_pending` throws too:
     * keep polling when [IdFlowException.errorCode] says so).
     */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun raiseForResponse(status: Int, headers: List<Header>, body: ByteArray, flow: Flow): Classified =
        translated { dev.idflow.ffi.raiseForResponse(httpStatus(status), headers, body, flow) }

    /** [classifyResponse] with headers as `HttpURLConnection.getHeaderFields()` gives them. */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun classifyResponse(status: Int, headers: Map<String?, List<String?>?>, body: ByteArray, flow: Flow): Classified =
        classifyResponse(status, headerList(headers), body, flow)

    /** [raiseForResponse] with headers as `HttpURLConnection.getHeaderFields()` gives them. */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun raiseForResponse(status: Int, headers: Map<String?, List<String?>?>, body: ByteArray, flow: Flow): Classified =
        raiseForResponse(status, headerList(headers), body, flow)

    /**
     * The decision for an AADSTS number (`"AADSTS50079"`), an error code
     * (`"invalid_grant"`, `"state_mismatch"`) or an error body (`{"error": …}`).
     * Throws a [ClientException] (`invalid_parameter`) for anything else.
     */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun explain(query: String): ErrorInfo = translated { dev.idflow.ffi.explain(query) }

    /**
     * The flow a name stands for: a flow's own name (`"silent"`) or the grant
     * that made the request (`"client_credentials"`, `"refresh_token"`,
     * `"authorization_code"`, `"password"`, `"on_behalf_of"`, `"device_code"`).
     * Throws a [ClientException] (`invalid_parameter`) for anything else.
     */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun parseFlow(name: String): Flow = translated { dev.idflow.ffi.parseFlow(name) }

    /** The decision for a request that got no HTTP answer. */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun transportFailure(kind: NetworkKind, detail: String): ErrorInfo =
        translated { dev.idflow.ffi.transportFailure(kind, detail) }

    /**
     * Throws [info] as its idiomatic exception, going through the native
     * library exactly as a failing flow would.
     */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun raise(info: ErrorInfo): Nothing {
        translated { dev.idflow.ffi.raiseError(info) }
        error("raise_error returned without an error") // the FFI contract forbids this
    }

    /**
     * The challenges of every `WWW-Authenticate` header among [headers] (a
     * protected resource's 401), in order: scheme, parameters (names
     * lower-cased), `error`, decoded `claims`, authority. Throws
     * [ClientException] (`unable_to_parse_authentication_header`) for a header
     * that does not parse.
     */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun parseWwwAuthenticate(headers: List<Header>): List<AuthChallenge> = translated { dev.idflow.ffi.parseWwwAuthenticate(headers) }

    /** [parseWwwAuthenticate] with headers as `HttpURLConnection.getHeaderFields()` gives them. */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun parseWwwAuthenticate(headers: Map<String?, List<String?>?>): List<AuthChallenge> =
        parseWwwAuthenticate(headerList(headers))

    /**
     * The claims a resource's 401 demands (`WWW-Authenticate: Bearer
     * error="insufficient_claims", claims="…"`), decoded; null when there is no
     * claims challenge. Pass them to the next token request (interactive, or
     * silent with a forced refresh), then call the resource again.
     */
    @JvmStatic
    fun claimsChallenge(headers: List<Header>): String? = dev.idflow.ffi.claimsChallenge(headers)

    /** [claimsChallenge] with headers as `HttpURLConnection.getHeaderFields()` gives them. */
    @JvmStatic
    fun claimsChallenge(headers: Map<String?, List<String?>?>): String? = claimsChallenge(headerList(headers))

    /**
     * Makes the native library panic on purpose and throws the resulting
     * [ClientException] (`internal_error`): shows that a panic never crashes the app.
     */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun selfTestPanic(): Unit = translated { dev.idflow.ffi.selfTestPanic() }

    /** [selfTestPanic] through a suspending native call that panics on a later poll. */
    @Throws(IdFlowException::class)
    suspend fun selfTestPanicAsync(): Unit = translated { dev.idflow.ffi.selfTestPanicAsync() }

    /**
     * Sends idflow's log lines up to [level] to [listener]; `null` stops logging
     * (the default: nothing is logged until this is called). The listener runs
     * on whichever thread logged, possibly concurrently; whatever it throws is
     * ignored. Tokens, secrets, codes and passwords are never logged.
     */
    @JvmStatic
    @Throws(IdFlowException::class)
    fun setLogger(level: LogLevel, listener: IdFlowLogListener?) =
        translated { dev.idflow.ffi.setLogger(listener?.let(::LoggerAdapter), level) }

    /**
     * Lets log lines show personal data (usernames, account and tenant ids,
     * URLs): off by default, for the whole process (MSAL4J's `logPii`). Those
     * lines arrive with `containsPii = true`.
     */
    @JvmStatic
    fun setPiiLoggingEnabled(enabled: Boolean) = dev.idflow.ffi.setPiiLoggingEnabled(enabled)

    @JvmStatic
    fun isPiiLoggingEnabled(): Boolean = dev.idflow.ffi.piiLoggingEnabled()

    private class LoggerAdapter(private val listener: IdFlowLogListener) : Logger {
        override fun log(level: LogLevel, message: String, containsPii: Boolean) {
            try {
                listener.onLog(level, message, containsPii)
            } catch (e: Exception) {
                // A broken listener must not break a sign-in.
            }
        }
    }

    private fun httpStatus(status: Int): UShort {
        require(status in 0..0xFFFF) { "HTTP status out of range: $status" }
        return status.toUShort()
    }

    // HttpURLConnection puts the status line under a null name; it is not a header.
    private fun headerList(headers: Map<String?, List<String?>?>): List<Header> =
        headers.flatMap { (name, values) ->
            if (name == null) emptyList() else values.orEmpty().filterNotNull().map { Header(name, it) }
        }
}

/** Receives idflow's log lines (see [IdFlow.setLogger]). */
fun interface IdFlowLogListener {
    fun onLog(level: LogLevel, message: String, containsPii: Boolean)
}
