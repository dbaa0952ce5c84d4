// The idiomatic token flows: the generated application objects behind one
// translation point, so every call throws the IdFlowException hierarchy (never
// the generated AuthException), with blocking variants for Java callers.
// The flows both kinds of application offer are written once, in
// [ClientApplication], over [NativeApplication].

@file:JvmName("IdFlowApplications")

package dev.idflow

import dev.idflow.ffi.AuthException
import dev.idflow.ffi.ClientCredential
import java.util.concurrent.CompletableFuture
import kotlin.coroutines.cancellation.CancellationException

/** The `x-client-sku` this layer sends unless [AppConfig.clientSku] names another. */
const val KOTLIN_CLIENT_SKU: String = "idflow.kotlin"

/**
 * What both applications share: auth code + PKCE, refresh-token import,
 * username/password, and the token cache (silent sign-in, accounts).
 *
 * Every method is `suspend` and has a `…Blocking` twin for Java (it blocks the
 * calling thread; interrupting that thread cancels the call and throws
 * [InterruptedException]).
 *
 * Failures are thrown as [IdFlowException] subclasses, never as the generated
 * `AuthException`:
 * - [InteractionRequiredException]: sign in interactively (pass its
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
abstract class ClientApplication internal constructor(private val app: NativeApplication) : AutoCloseable {
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
    ): AuthCodeFlow = translated { app.initiateAuthCodeFlow(scopes, redirectUri, options) }

    /**
     * Completes [flow] with the redirect URL (or its query string). A redirect
     * with the wrong `state` is a [ClientException] (`state_mismatch`): start over.
     * An error redirect (`login_required` after `prompt=none`, …) is thrown as
     * the hierarchy says.
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenByAuthCodeFlow(flow: AuthCodeFlow, redirect: String): TokenResult =
        translated { app.acquireTokenByAuthCodeFlow(flow, redirect) }

    /**
     * Redeems a refresh token (e.g. imported from another library). A dead or
     * insufficient one is an [InteractionRequiredException]: sign in interactively.
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenByRefreshToken(refreshToken: String, scopes: List<String>, claims: String? = null): TokenResult =
        translated { app.acquireTokenByRefreshToken(refreshToken, scopes, claims) }

    /**
     * ROPC, for managed (cloud) users only: prefer an interactive sign-in.
     * MFA, consent or an expired password is an [InteractionRequiredException]
     * whose `reason` says which; a wrong password is a [ServiceException].
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenByUsernamePassword(
        username: String,
        password: String,
        scopes: List<String>,
        claims: String? = null,
    ): TokenResult = translated { app.acquireTokenByUsernamePassword(username, password, scopes, claims) }

    /** The cache this application keeps tokens in ([AppConfig.tokenCache], or its own). */
    val tokenCache: TokenCache get() = app.tokenCache()

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
    ): TokenResult = cachedHit(scopes, account, claims, forceRefresh)
        ?: translated { app.acquireTokenSilent(scopes, account, claims, forceRefresh) }

    private val hits = CacheHits { scopes, home -> app.silentProbe(scopes, home.orEmpty()) }

    /** The cache hit in one native call (see [CacheHits]); null when the full call must run. */
    private fun cachedHit(scopes: List<String>, account: AccountInfo?, claims: String?, forceRefresh: Boolean) =
        if (account == null || claims != null || forceRefresh) null else hits.hit(scopes, account.homeAccountId)

    /**
     * The accounts this application can use silently, optionally only
     * [username]'s (case-insensitive). The list is read-only; it crosses from
     * the native library as one buffer, each [AccountInfo] decoded when read,
     * and an unchanged cache answers with the list it gave last time.
     */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun getAccounts(username: String? = null): List<AccountInfo> = translated { accounts.accounts(username) }

    private val accounts =
        AccountsMemo({ app.accountsGeneration() }, { app.getAccountsPacked(it) }, { app.getAccountsUpdate(it) })

    /** Signs [account] out of this application: its tokens leave the cache. */
    @Throws(IdFlowException::class)
    fun removeAccount(account: AccountInfo) = translated { app.removeAccount(account) }

    /**
     * The account with [homeAccountId] (the id a web app kept, e.g. in its
     * session), or null when no cache this application reads holds it (sign
     * the user in again). With a partitioned cache, that user's partition is
     * read from the store first, so any instance finds a user another one
     * signed in, where [getAccounts] lists only the partitions this process
     * holds. An idflow addition: MSAL for Java has no such call; MSAL.NET's
     * `GetAccountAsync(identifier)` answers the same way
     * (AzureAD/microsoft-authentication-library-for-dotnet
     * `src/client/Microsoft.Identity.Client/ClientApplicationBase.cs`).
     */
    @Throws(IdFlowException::class)
    suspend fun getAccount(homeAccountId: String): AccountInfo? = translated { app.getAccount(homeAccountId) }

    /** [getAccount], blocking the calling thread. */
    @Throws(IdFlowException::class)
    fun getAccountBlocking(homeAccountId: String): AccountInfo? = blocking { getAccount(homeAccountId) }

    // Blocking variants, for Java and other non-coroutine callers.

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

    /** [acquireTokenByUsernamePassword], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun acquireTokenByUsernamePasswordBlocking(
        username: String,
        password: String,
        scopes: List<String>,
        claims: String? = null,
    ): TokenResult = blocking { acquireTokenByUsernamePassword(username, password, scopes, claims) }

    /** [acquireTokenSilent], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun acquireTokenSilentBlocking(
        scopes: List<String>,
        account: AccountInfo?,
        claims: String? = null,
        forceRefresh: Boolean = false,
    ): TokenResult = cachedHit(scopes, account, claims, forceRefresh)
        ?: blocking { acquireTokenSilent(scopes, account, claims, forceRefresh) }

    // CompletableFuture variants (MSAL for Java's shape): the future fails with
    // the IdFlowException the call threw; cancelling it cancels the call.

    /** [initiateAuthCodeFlow] as a [CompletableFuture]. */
    @JvmOverloads
    fun initiateAuthCodeFlowAsync(
        scopes: List<String>,
        redirectUri: String,
        options: AuthorizeOptions = AuthorizeOptions(),
    ): CompletableFuture<AuthCodeFlow> = future { initiateAuthCodeFlow(scopes, redirectUri, options) }

    /** [acquireTokenByAuthCodeFlow] as a [CompletableFuture]. */
    fun acquireTokenByAuthCodeFlowAsync(flow: AuthCodeFlow, redirect: String): CompletableFuture<TokenResult> =
        future { acquireTokenByAuthCodeFlow(flow, redirect) }

    /** [acquireTokenByRefreshToken] as a [CompletableFuture]. */
    @JvmOverloads
    fun acquireTokenByRefreshTokenAsync(
        refreshToken: String,
        scopes: List<String>,
        claims: String? = null,
    ): CompletableFuture<TokenResult> = future { acquireTokenByRefreshToken(refreshToken, scopes, claims) }

    /** [acquireTokenByUsernamePassword] as a [CompletableFuture]. */
    @JvmOverloads
    fun acquireTokenByUsernamePasswordAsync(
        username: String,
        password: String,
        scopes: List<String>,
        claims: String? = null,
    ): CompletableFuture<TokenResult> = future { acquireTokenByUsernamePassword(username, password, scopes, claims) }

    /** [acquireTokenSilent] as a [CompletableFuture]. */
    @JvmOverloads
    fun acquireTokenSilentAsync(
        scopes: List<String>,
        account: AccountInfo?,
        claims: String? = null,
        forceRefresh: Boolean = false,
    ): CompletableFuture<TokenResult> = future { acquireTokenSilent(scopes, account, claims, forceRefresh) }

    /** Frees the native object; the application must not be used afterwards. */
    override fun close() = app.close()
}

/**
 * A public client (desktop, mobile, CLI: an app that cannot keep a secret):
 * device code and interactive sign-in, plus everything in [ClientApplication]
 * (auth code + PKCE, refresh-token import, username/password, the cache).
 *
 * Errors and blocking variants as in [ClientApplication]: an
 * [InteractionRequiredException] means run [acquireTokenInteractive].
 */
class PublicClientApplication private constructor(app: NativePublicApplication) : ClientApplication(app) {
    /** The generated object, for anything this layer does not wrap (it throws `AuthException`). */
    val native: dev.idflow.ffi.PublicClientApplication = app

    @Throws(IdFlowException::class)
    constructor(config: AppConfig) : this(translated { NativePublicApplication(forTheCore(config)) })

    /**
     * Throws [ClientException] (`invalid_authority`, `authority_uri_insecure`, …)
     * for a bad authority: fix the configuration.
     */
    @Throws(IdFlowException::class)
    constructor(clientId: String, authority: String) : this(AppConfig(clientId = clientId, authority = authority))

    /**
     * Starts a device-code flow. Show [DeviceCodeFlow.message] to the user at
     * once, then call [acquireTokenByDeviceFlow].
     */
    @Throws(IdFlowException::class)
    suspend fun initiateDeviceFlow(scopes: List<String>, claims: String? = null): DeviceCodeFlow =
        translated { native.initiateDeviceFlow(scopes, claims) }

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

    /** [acquireTokenInteractive], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class, InterruptedException::class)
    fun acquireTokenInteractiveBlocking(
        scopes: List<String>,
        options: InteractiveOptions = InteractiveOptions(),
        opener: UrlOpener? = null,
        cancel: CancelHandle = CancelHandle(),
    ): TokenResult = blocking { acquireTokenInteractive(scopes, options, opener, cancel) }

    /** [initiateDeviceFlow] as a [CompletableFuture]. */
    @JvmOverloads
    fun initiateDeviceFlowAsync(scopes: List<String>, claims: String? = null): CompletableFuture<DeviceCodeFlow> =
        future { initiateDeviceFlow(scopes, claims) }

    /**
     * [acquireTokenByDeviceFlow] as a [CompletableFuture]: cancelling the
     * future stops the poll at once.
     */
    @JvmOverloads
    fun acquireTokenByDeviceFlowAsync(
        flow: DeviceCodeFlow,
        cancel: CancelHandle = CancelHandle(),
    ): CompletableFuture<TokenResult> = future { acquireTokenByDeviceFlow(flow, cancel) }

    /** [acquireTokenInteractive] as a [CompletableFuture]. */
    @JvmOverloads
    fun acquireTokenInteractiveAsync(
        scopes: List<String>,
        options: InteractiveOptions = InteractiveOptions(),
        opener: UrlOpener? = null,
        cancel: CancelHandle = CancelHandle(),
    ): CompletableFuture<TokenResult> = future { acquireTokenInteractive(scopes, options, opener, cancel) }

    companion object {
        /**
         * MSAL for Java's builder: `PublicClientApplication.builder(clientId)
         * .authority(url).build()`.
         */
        @JvmStatic
        fun builder(clientId: String): PublicClientApplicationBuilder = PublicClientApplicationBuilder(clientId)
    }
}

/**
 * A confidential client (a web app, an API, a daemon) holding a
 * [ClientCredential]: client credentials and on-behalf-of, plus everything in
 * [ClientApplication] (auth-code redemption, refresh, username/password, the cache).
 *
 * Errors and blocking variants as in [ClientApplication]. A wrong or missing
 * credential is a [ServiceException] (`invalid_client`, status 401): fix the
 * configuration, do not retry.
 */
class ConfidentialClientApplication private constructor(app: NativeConfidentialApplication) : ClientApplication(app) {
    /** The generated object, for anything this layer does not wrap (it throws `AuthException`). */
    val native: dev.idflow.ffi.ConfidentialClientApplication = app

    /** Throws [ClientException] for a bad authority or credential: fix the configuration. */
    @Throws(IdFlowException::class)
    constructor(config: AppConfig, credential: ClientCredential) :
        this(translated { NativeConfidentialApplication(forTheCore(config), credential) })

    /** Throws [ClientException] for a bad authority or credential: fix the configuration. */
    @Throws(IdFlowException::class)
    constructor(clientId: String, authority: String, credential: ClientCredential) :
        this(AppConfig(clientId = clientId, authority = authority), credential)

    /**
     * An app-only token; for Microsoft, scopes are `<resource>/.default`. A 429
     * or 5xx is a [ServiceException] with `retryAfterMs`; repeating it too soon
     * is a [ThrottlingException].
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenForClient(scopes: List<String>, claims: String? = null): TokenResult =
        cachedForClient(scopes, claims) ?: translated { native.acquireTokenForClient(scopes, claims) }

    private val clientHits = CacheHits { scopes, _ -> native.clientProbe(scopes) }

    private fun cachedForClient(scopes: List<String>, claims: String?) =
        if (claims != null) null else clientHits.hit(scopes, null)

    /**
     * Exchanges the access token your API received for one to a downstream
     * API. An [InteractionRequiredException] must be sent back to your API's
     * caller (with its `claims`) so that it signs in interactively.
     */
    @Throws(IdFlowException::class)
    suspend fun acquireTokenOnBehalfOf(userAssertion: String, scopes: List<String>, claims: String? = null): TokenResult =
        translated { native.acquireTokenOnBehalfOf(userAssertion, scopes, claims) }

    /** [acquireTokenForClient], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun acquireTokenForClientBlocking(scopes: List<String>, claims: String? = null): TokenResult =
        cachedForClient(scopes, claims) ?: blocking { acquireTokenForClient(scopes, claims) }

    /** [acquireTokenOnBehalfOf], blocking the calling thread. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    fun acquireTokenOnBehalfOfBlocking(userAssertion: String, scopes: List<String>, claims: String? = null): TokenResult =
        blocking { acquireTokenOnBehalfOf(userAssertion, scopes, claims) }

    /** [acquireTokenForClient] as a [CompletableFuture]. */
    @JvmOverloads
    fun acquireTokenForClientAsync(scopes: List<String>, claims: String? = null): CompletableFuture<TokenResult> =
        future { acquireTokenForClient(scopes, claims) }

    /** [acquireTokenOnBehalfOf] as a [CompletableFuture]. */
    @JvmOverloads
    fun acquireTokenOnBehalfOfAsync(
        userAssertion: String,
        scopes: List<String>,
        claims: String? = null,
    ): CompletableFuture<TokenResult> = future { acquireTokenOnBehalfOf(userAssertion, scopes, claims) }

    companion object {
        /**
         * MSAL for Java's builder: `ConfidentialClientApplication.builder(clientId,
         * credential).authority(url).build()`.
         */
        @JvmStatic
        fun builder(clientId: String, credential: ClientCredential): ConfidentialClientApplicationBuilder =
            ConfidentialClientApplicationBuilder(clientId, credential)
    }
}

/** The former name of [PublicClientApplication]. */
@Deprecated("Renamed to MSAL for Java's name", ReplaceWith("PublicClientApplication", "dev.idflow.PublicClientApplication"))
typealias PublicClient = PublicClientApplication

/** The former name of [ConfidentialClientApplication]. */
@Deprecated(
    "Renamed to MSAL for Java's name",
    ReplaceWith("ConfidentialClientApplication", "dev.idflow.ConfidentialClientApplication"),
)
typealias ConfidentialClient = ConfidentialClientApplication

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
                val info = dev.idflow.ffi.explain("authentication_ui_failed")
                throw AuthException.Client(info.copy(message = "The UrlOpener failed: $e"), e.toString())
            }
        }
    }

/**
 * The methods both generated application objects have (the bindings write
 * them onto each), as one type. The generated classes are open, so the two
 * subclasses below gain this interface with no member written again.
 */
internal interface NativeApplication : AutoCloseable {
    suspend fun initiateAuthCodeFlow(scopes: List<String>, redirectUri: String, options: AuthorizeOptions): AuthCodeFlow

    suspend fun acquireTokenByAuthCodeFlow(flow: AuthCodeFlow, redirect: String): TokenResult

    suspend fun acquireTokenByRefreshToken(refreshToken: String, scopes: List<String>, claims: String?): TokenResult

    suspend fun acquireTokenByUsernamePassword(
        username: String,
        password: String,
        scopes: List<String>,
        claims: String?,
    ): TokenResult

    suspend fun acquireTokenSilent(
        scopes: List<String>,
        account: AccountInfo?,
        claims: String?,
        forceRefresh: Boolean,
    ): TokenResult

    fun getAccounts(username: String?): List<AccountInfo>

    fun getAccountsPacked(username: String?): String

    fun getAccountsUpdate(cursor: dev.idflow.ffi.AccountsCursor): String

    suspend fun getAccount(homeAccountId: String): AccountInfo?

    fun cacheGeneration(): ULong

    fun accountsGeneration(): ULong

    fun silentProbe(scopes: List<String>, homeAccountId: String): dev.idflow.ffi.CachedTokenProbe

    fun removeAccount(account: AccountInfo)

    fun tokenCache(): TokenCache
}

internal class NativePublicApplication(config: AppConfig) :
    dev.idflow.ffi.PublicClientApplication(config),
    NativeApplication

internal class NativeConfidentialApplication(config: AppConfig, credential: ClientCredential) :
    dev.idflow.ffi.ConfidentialClientApplication(config, credential),
    NativeApplication

/** [config] as the core gets it: the Kotlin SKU unless the app set one, its HTTP client kept attached. */
private fun forTheCore(config: AppConfig): AppConfig =
    withAttachedHttpClient(if (config.clientSku == null) config.copy(clientSku = KOTLIN_CLIENT_SKU) else config)
