// The idiomatic token flows: the generated application objects behind one
// translation point, so every call throws the IdFlowException hierarchy (never
// the generated AuthException), with blocking variants for Java callers.

@file:JvmName("IdFlowApplications")

package dev.idflow

import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.runBlocking
import kotlin.coroutines.cancellation.CancellationException

/** The `x-client-sku` this layer sends unless [AppConfig.clientSku] names another. */
const val KOTLIN_CLIENT_SKU: String = "idflow.kotlin"

/**
 * A public client (desktop, mobile, CLI: an app that cannot keep a secret):
 * device code, interactive sign-in, auth code + PKCE, refresh-token import,
 * username/password.
 *
 * Every method is `suspend` and has a `…Blocking` twin for Java (it blocks the
 * calling thread; interrupting that thread cancels the call and throws
 * [InterruptedException]).
 *
 * Failures are thrown as [IdFlowException] subclasses, never as the generated
 * `AuthException`:
 * - [InteractionRequiredException]: run [acquireTokenInteractive] (pass its
 *   `claims`); do not retry the silent call.
 * - [ThrottlingException]: wait `retryInMs`; serve cached tokens meanwhile.
 * - [ServiceException]: retry only when `isRetryable`, never before
 *   `retryAfterMs`; otherwise fix the registration or request.
 * - [ClientException]: fix the app (see `mitigation`); a network failure has
 *   the `java.net` exception as its `cause` (check connectivity, retry);
 *   `user_cancelled` / `authorization_declined` mean the user stopped: stop quietly.
 *
 * Close it (or `use { }`) to free the native object early; otherwise the
 * garbage collector does.
 */
class PublicClient
@Throws(IdFlowException::class)
constructor(config: AppConfig) : AutoCloseable {
    /**
     * Throws [ClientException] (`invalid_authority`, `authority_uri_insecure`, …)
     * for a bad authority: fix the configuration.
     */
    @Throws(IdFlowException::class)
    constructor(clientId: String, authority: String) : this(AppConfig(clientId = clientId, authority = authority))

    /** The generated object, for anything this layer does not wrap (it throws `AuthException`). */
    val native: PublicClientApplication = translated { PublicClientApplication(withKotlinSku(config)) }

    /**
     * Starts a device-code flow. Show [DeviceCodeFlow.message] to the user at
     * once, then call [acquireTokenByDeviceFlow].
     */
    @Throws(IdFlowException::class)
    suspend fun initiateDeviceFlow(scopes: List<String>, claims: String? = null): DeviceCodeFlow =
        translatedSuspend { native.initiateDeviceFlow(scopes, claims) }

    /**
     * Polls until the user finishes, declines, the code expires, or the call is
     * cancelled.
     *
     * Cancelling the calling coroutine (`job.cancel()`, `withTimeout`) fires
     * [cancel], so the poll stops at once, and this throws
     * [CancellationException] as coroutines do. Calling [CancelHandle.cancel]
     * from elsewhere instead ends the call with a [ClientException]
     * `user_cancelled`. A declined sign-in is a [ClientException]
     * (`authorization_declined`); an expired code is a [ServiceException]
     * (`expired_token`): start a new flow.
     */
    @Throws(IdFlowException::class, CancellationException::class)
    suspend fun acquireTokenByDeviceFlow(flow: DeviceCodeFlow, cancel: CancelHandle = CancelHandle()): TokenResult =
        cancellable(cancel) { native.acquireTokenByDeviceFlow(flow, cancel) }

    /**
     * Starts an auth code + PKCE flow for a redirect your app receives itself:
     * send the user to [AuthCodeFlow.authUri], then pass the redirect to
     * [acquireTokenByAuthCodeFlow]. A bad `prompt` is a [ClientException]
     * (`invalid_parameter`).
     */
    @Throws(IdFlowException::class)
    suspend fun initiateAuthCodeFlow(
        scopes: List<String>,
        redirectUri: String,
        options: AuthorizeOptions = AuthorizeOptions(),
    ): AuthCodeFlow = translatedSuspend { native.initiateAuthCodeFlow(scopes, redirectUri, options) }

    /**
     * Completes [flow] with the redirect URL (or its query string). A redirect
     * with the wrong `state` is a [ClientException] (`state_mismatch`): start over.
     * An error redirect (`login_required` after `prompt=none`, …) is thrown as
     * the hierarchy says.
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenByAuthCodeFlow(flow: AuthCodeFlow, redirect: String): TokenResult =
        translatedSuspend { native.acquireTokenByAuthCodeFlow(flow, redirect) }

    /**
     * Signs in through the browser ([opener], the system browser when null)
     * and a loopback redirect on this device. Cancelling the calling coroutine
     * fires [cancel] and throws [CancellationException]; a user who closes the
     * browser or declines gets a [ClientException].
     */
    @Throws(IdFlowException::class, CancellationException::class)
    suspend fun acquireTokenInteractive(
        scopes: List<String>,
        options: InteractiveOptions = InteractiveOptions(),
        opener: UrlOpener? = null,
        cancel: CancelHandle = CancelHandle(),
    ): TokenResult = cancellable(cancel) { native.acquireTokenInteractive(scopes, options, opener, cancel) }

    /**
     * Redeems a refresh token (e.g. imported from another library). A dead or
     * insufficient one is an [InteractionRequiredException]: sign in interactively.
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenByRefreshToken(refreshToken: String, scopes: List<String>, claims: String? = null): TokenResult =
        translatedSuspend { native.acquireTokenByRefreshToken(refreshToken, scopes, claims) }

    /**
     * ROPC, for managed (cloud) users only: prefer [acquireTokenInteractive].
     * MFA, consent or an expired password is an [InteractionRequiredException]
     * whose `reason` says which; a wrong password is a [ServiceException].
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenByUsernamePassword(
        username: String,
        password: String,
        scopes: List<String>,
        claims: String? = null,
    ): TokenResult = translatedSuspend { native.acquireTokenByUsernamePassword(username, password, scopes, claims) }

    // Blocking variants, for Java and other non-coroutine callers.

    /** [initiateDeviceFlow], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun initiateDeviceFlowBlocking(scopes: List<String>, claims: String? = null): DeviceCodeFlow =
        blocking { initiateDeviceFlow(scopes, claims) }

    /**
     * [acquireTokenByDeviceFlow], blocking the calling thread. Call
     * [CancelHandle.cancel] from another thread to stop it (a [ClientException]
     * `user_cancelled`); interrupting the thread also stops the poll.
     */
    @JvmOverloads
    @Throws(IdFlowException::class, InterruptedException::class)
    fun acquireTokenByDeviceFlowBlocking(flow: DeviceCodeFlow, cancel: CancelHandle = CancelHandle()): TokenResult =
        blocking { acquireTokenByDeviceFlow(flow, cancel) }

    /** [initiateAuthCodeFlow], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun initiateAuthCodeFlowBlocking(
        scopes: List<String>,
        redirectUri: String,
        options: AuthorizeOptions = AuthorizeOptions(),
    ): AuthCodeFlow = blocking { initiateAuthCodeFlow(scopes, redirectUri, options) }

    /** [acquireTokenByAuthCodeFlow], blocking the calling thread. */
    @Throws(IdFlowException::class)
    fun acquireTokenByAuthCodeFlowBlocking(flow: AuthCodeFlow, redirect: String): TokenResult =
        blocking { acquireTokenByAuthCodeFlow(flow, redirect) }

    /** [acquireTokenInteractive], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class, InterruptedException::class)
    fun acquireTokenInteractiveBlocking(
        scopes: List<String>,
        options: InteractiveOptions = InteractiveOptions(),
        opener: UrlOpener? = null,
        cancel: CancelHandle = CancelHandle(),
    ): TokenResult = blocking { acquireTokenInteractive(scopes, options, opener, cancel) }

    /** [acquireTokenByRefreshToken], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun acquireTokenByRefreshTokenBlocking(refreshToken: String, scopes: List<String>, claims: String? = null): TokenResult =
        blocking { acquireTokenByRefreshToken(refreshToken, scopes, claims) }

    /** [acquireTokenByUsernamePassword], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun acquireTokenByUsernamePasswordBlocking(
        username: String,
        password: String,
        scopes: List<String>,
        claims: String? = null,
    ): TokenResult = blocking { acquireTokenByUsernamePassword(username, password, scopes, claims) }

    // ---- the token cache ----

    /** The cache this client keeps tokens in ([AppConfig.tokenCache], or its own). */
    val tokenCache: TokenCache get() = native.tokenCache()

    /**
     * A token for [account] (from [getAccounts]) without user interaction: a
     * valid cached token (no network at all), else one from its refresh token.
     * An [InteractionRequiredException] means sign in interactively: its
     * `reason` is `ACQUIRE_TOKEN_SILENT_FAILED` when nothing usable was cached
     * (`no_account`, `no_tokens_found`), else the server's (pass its `claims`).
     * [forceRefresh] and [claims] skip the cached access token.
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenSilent(
        scopes: List<String>,
        account: AccountInfo?,
        claims: String? = null,
        forceRefresh: Boolean = false,
    ): TokenResult = translatedSuspend { native.acquireTokenSilent(scopes, account, claims, forceRefresh) }

    /** The accounts this client can use silently, optionally only [username]'s (case-insensitive). */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun getAccounts(username: String? = null): List<AccountInfo> = translated { native.getAccounts(username) }

    /** Signs [account] out of this client: its tokens leave the cache. */
    @Throws(IdFlowException::class)
    fun removeAccount(account: AccountInfo) = translated { native.removeAccount(account) }

    /** [acquireTokenSilent], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun acquireTokenSilentBlocking(
        scopes: List<String>,
        account: AccountInfo?,
        claims: String? = null,
        forceRefresh: Boolean = false,
    ): TokenResult = blocking { acquireTokenSilent(scopes, account, claims, forceRefresh) }

    /** Frees the native object; the client must not be used afterwards. */
    override fun close() = native.close()
}

/**
 * A confidential client (a web app, an API, a daemon) holding a
 * [ClientCredential]: client credentials, on-behalf-of, auth-code redemption,
 * refresh.
 *
 * Errors and blocking variants as in [PublicClient]. A wrong or missing
 * credential is a [ServiceException] (`invalid_client`, status 401): fix the
 * configuration, do not retry.
 */
class ConfidentialClient
@Throws(IdFlowException::class)
constructor(config: AppConfig, credential: ClientCredential) : AutoCloseable {
    /** Throws [ClientException] for a bad authority or credential: fix the configuration. */
    @Throws(IdFlowException::class)
    constructor(clientId: String, authority: String, credential: ClientCredential) :
        this(AppConfig(clientId = clientId, authority = authority), credential)

    /** The generated object, for anything this layer does not wrap (it throws `AuthException`). */
    val native: ConfidentialClientApplication =
        translated { ConfidentialClientApplication(withKotlinSku(config), credential) }

    /**
     * An app-only token; for Microsoft, scopes are `<resource>/.default`. A 429
     * or 5xx is a [ServiceException] with `retryAfterMs`; repeating it too soon
     * is a [ThrottlingException].
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenForClient(scopes: List<String>, claims: String? = null): TokenResult =
        translatedSuspend { native.acquireTokenForClient(scopes, claims) }

    /**
     * Exchanges the access token your API received for one to a downstream
     * API. An [InteractionRequiredException] must be sent back to your API's
     * caller (with its `claims`) so that it signs in interactively.
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenOnBehalfOf(userAssertion: String, scopes: List<String>, claims: String? = null): TokenResult =
        translatedSuspend { native.acquireTokenOnBehalfOf(userAssertion, scopes, claims) }

    /** As [PublicClient.initiateAuthCodeFlow], for a web app's redirect. */
    @Throws(IdFlowException::class)
    suspend fun initiateAuthCodeFlow(
        scopes: List<String>,
        redirectUri: String,
        options: AuthorizeOptions = AuthorizeOptions(),
    ): AuthCodeFlow = translatedSuspend { native.initiateAuthCodeFlow(scopes, redirectUri, options) }

    /** As [PublicClient.acquireTokenByAuthCodeFlow]. */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenByAuthCodeFlow(flow: AuthCodeFlow, redirect: String): TokenResult =
        translatedSuspend { native.acquireTokenByAuthCodeFlow(flow, redirect) }

    /** As [PublicClient.acquireTokenByRefreshToken]. */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenByRefreshToken(refreshToken: String, scopes: List<String>, claims: String? = null): TokenResult =
        translatedSuspend { native.acquireTokenByRefreshToken(refreshToken, scopes, claims) }

    /** [acquireTokenForClient], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun acquireTokenForClientBlocking(scopes: List<String>, claims: String? = null): TokenResult =
        blocking { acquireTokenForClient(scopes, claims) }

    /** [acquireTokenOnBehalfOf], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun acquireTokenOnBehalfOfBlocking(userAssertion: String, scopes: List<String>, claims: String? = null): TokenResult =
        blocking { acquireTokenOnBehalfOf(userAssertion, scopes, claims) }

    /** [initiateAuthCodeFlow], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun initiateAuthCodeFlowBlocking(
        scopes: List<String>,
        redirectUri: String,
        options: AuthorizeOptions = AuthorizeOptions(),
    ): AuthCodeFlow = blocking { initiateAuthCodeFlow(scopes, redirectUri, options) }

    /** [acquireTokenByAuthCodeFlow], blocking the calling thread. */
    @Throws(IdFlowException::class)
    fun acquireTokenByAuthCodeFlowBlocking(flow: AuthCodeFlow, redirect: String): TokenResult =
        blocking { acquireTokenByAuthCodeFlow(flow, redirect) }

    /** [acquireTokenByRefreshToken], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun acquireTokenByRefreshTokenBlocking(refreshToken: String, scopes: List<String>, claims: String? = null): TokenResult =
        blocking { acquireTokenByRefreshToken(refreshToken, scopes, claims) }

    // ---- the token cache ----

    /** The cache this client keeps tokens in ([AppConfig.tokenCache], or its own). */
    val tokenCache: TokenCache get() = native.tokenCache()

    /**
     * A token for [account] (from [getAccounts]) without user interaction: a
     * valid cached token (no network at all), else one from its refresh token.
     * An [InteractionRequiredException] means sign in interactively: its
     * `reason` is `ACQUIRE_TOKEN_SILENT_FAILED` when nothing usable was cached
     * (`no_account`, `no_tokens_found`), else the server's (pass its `claims`).
     * [forceRefresh] and [claims] skip the cached access token.
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenSilent(
        scopes: List<String>,
        account: AccountInfo?,
        claims: String? = null,
        forceRefresh: Boolean = false,
    ): TokenResult = translatedSuspend { native.acquireTokenSilent(scopes, account, claims, forceRefresh) }

    /** The accounts this client can use silently, optionally only [username]'s (case-insensitive). */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun getAccounts(username: String? = null): List<AccountInfo> = translated { native.getAccounts(username) }

    /** Signs [account] out of this client: its tokens leave the cache. */
    @Throws(IdFlowException::class)
    fun removeAccount(account: AccountInfo) = translated { native.removeAccount(account) }

    /** [acquireTokenSilent], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun acquireTokenSilentBlocking(
        scopes: List<String>,
        account: AccountInfo?,
        claims: String? = null,
        forceRefresh: Boolean = false,
    ): TokenResult = blocking { acquireTokenSilent(scopes, account, claims, forceRefresh) }

    /** Frees the native object; the client must not be used afterwards. */
    override fun close() = native.close()
}

/** A [UrlOpener] from a lambda (Kotlin) or a `Consumer`-style lambda (Java). */
fun interface OpenUrl {
    /** Show [url] to the user; throwing ends the sign-in as `authentication_ui_failed`. */
    fun open(url: String)
}

/**
 * Wraps [open] as the generated [UrlOpener]. Whatever [open] throws ends the
 * sign-in with a [ClientException] `authentication_ui_failed` carrying its
 * message (the generated callback would otherwise turn it into an internal error).
 */
fun urlOpener(open: OpenUrl): UrlOpener =
    object : UrlOpener {
        override fun openUrl(url: String) {
            try {
                open.open(url)
            } catch (e: AuthException) {
                throw e
            } catch (e: Exception) {
                val info = dev.idflow.explain("authentication_ui_failed")
                throw AuthException.Client(info.copy(message = "The UrlOpener failed: $e"), e.toString())
            }
        }
    }

// The one translation point: the generated AuthException becomes the class the core chose.

private fun withKotlinSku(config: AppConfig): AppConfig =
    if (config.clientSku == null) config.copy(clientSku = KOTLIN_CLIENT_SKU) else config

internal inline fun <T> translated(call: () -> T): T =
    try {
        call()
    } catch (e: AuthException) {
        throw e.info.toException()
    } catch (e: InternalException) {
        throw internalError(e)
    }

private suspend inline fun <T> translatedSuspend(crossinline call: suspend () -> T): T =
    try {
        call()
    } catch (e: AuthException) {
        throw e.info.toException()
    } catch (e: InternalException) {
        throw internalError(e)
    }

/** uniffi's own failure (a panic it caught, a callback that threw): idflow's `internal_error`. */
internal fun internalError(e: InternalException): IdFlowException {
    val info = dev.idflow.explain("internal_error")
    return ClientException(info.copy(message = "${info.message} (${e.message})"), e)
}

/**
 * Runs [call] so that cancelling the coroutine also fires [cancel] (the core
 * then stops polling or listening at once) and surfaces as
 * [CancellationException], never as `user_cancelled`.
 */
private suspend inline fun <T> cancellable(cancel: CancelHandle, crossinline call: suspend () -> T): T =
    try {
        translatedSuspend(call)
    } catch (e: CancellationException) {
        cancel.cancel()
        throw e
    } catch (e: IdFlowException) {
        // The coroutine was cancelled while the core was already ending with
        // user_cancelled: report the cancellation, as coroutines do.
        currentCoroutineContext().ensureActive()
        throw e
    }

private fun <T> blocking(call: suspend () -> T): T = runBlocking { call() }
