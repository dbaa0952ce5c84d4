// Builders in MSAL for Java's shape, for Java callers and for code moving
// from MSAL for Java: `PublicClientApplication.builder(clientId)
// .authority(url).build()`. Each setter fills one field of [AppConfig]; the
// Kotlin constructors over [AppConfig] stay the primary API.
//
// The setter names follow msal4j's AbstractClientApplicationBase.Builder
// (msal4j-sdk/src/main/java/com/microsoft/aad/msal4j/AbstractClientApplicationBase.java)
// where idflow has the same setting.

@file:JvmName("IdFlowBuilders")

package dev.idflow

import dev.idflow.ffi.AzureRegion
import dev.idflow.ffi.ClientCredential

/** The authority MSAL for Java uses when none is given: any work, school or personal account. */
const val DEFAULT_AUTHORITY: String = "https://login.microsoftonline.com/common/"

/**
 * The settings both builders share. Setters return the builder itself, so
 * they chain; [build][PublicClientApplicationBuilder.build] validates, and
 * throws [ClientException] for a bad authority or credential.
 */
abstract class ClientApplicationBuilder<B : ClientApplicationBuilder<B>> internal constructor(clientId: String) {
    /** The configuration so far. */
    var config: AppConfig = AppConfig(clientId = clientId, authority = DEFAULT_AUTHORITY)
        private set

    @Suppress("UNCHECKED_CAST")
    private fun update(change: AppConfig.() -> AppConfig): B {
        config = config.change()
        return this as B
    }

    /** A Microsoft authority: `https://login.microsoftonline.com/<tenant>` or a sovereign cloud, CIAM or B2C. */
    fun authority(url: String): B = update { copy(authority = url, oidcAuthority = false) }

    /** An Azure AD B2C authority (`https://<tenant>.b2clogin.com/<tenant>/<policy>`); instance discovery off, as MSAL does. */
    fun b2cAuthority(url: String): B = update { copy(authority = url, oidcAuthority = false, validateAuthority = false) }

    /** Any OpenID provider's issuer URL (its discovery document decides the endpoints). */
    fun oidcAuthority(issuer: String): B = update { copy(authority = issuer, oidcAuthority = true) }

    /**
     * Whether an unknown Microsoft host is checked through instance discovery
     * (default true). Turn off only for a host you control.
     */
    fun validateAuthority(value: Boolean): B = update { copy(validateAuthority = value) }

    /** MSAL for Java's other name for [validateAuthority]. */
    fun instanceDiscovery(value: Boolean): B = validateAuthority(value)

    /** Capabilities announced in every request (`cp1`: the app handles claims challenges). */
    fun clientCapabilities(capabilities: Set<String>): B = update { copy(clientCapabilities = capabilities.toList()) }

    /** Connection timeout in milliseconds (default 10 s). */
    fun connectTimeoutForDefaultHttpClient(millis: Int): B = update { copy(connectTimeoutMs = millis.toULong()) }

    /** Whole-request timeout in milliseconds (default 30 s): idflow bounds the whole exchange, not each read. */
    fun readTimeoutForDefaultHttpClient(millis: Int): B = update { copy(timeoutMs = millis.toULong()) }

    /** The cache this application reads and writes (default: its own, in memory). */
    fun tokenCache(cache: TokenCache): B = update { copy(tokenCache = cache) }

    /** An extra trusted root certificate (PEM), e.g. a test server's own CA. */
    fun extraRootCertificate(pem: String): B = update { copy(extraRootCertificatesPem = extraRootCertificatesPem + pem) }

    /** The one transport retry of a 5xx without Retry-After or a timeout (default on). */
    fun retry(enabled: Boolean): B = update { copy(retryEnabled = enabled) }

    /** Sent as `x-app-name` with every token request (msal4j `applicationName`). */
    fun applicationName(name: String): B = update { copy(appName = name) }

    /** Sent as `x-app-ver` with every token request (msal4j `applicationVersion`). */
    fun applicationVersion(version: String): B = update { copy(appVersion = version) }

    internal fun updateConfig(change: AppConfig.() -> AppConfig): B = update(change)

    /**
     * The app's own HTTP stack (MSAL for Java's `httpClient(IHttpClient)`): every
     * request goes through it, with idflow's retry and throttling on top.
     */
    fun httpClient(client: HttpClient): B = update { copy(httpClient = client) }
}

/** Builds a [PublicClientApplication]; from [PublicClientApplication.builder]. */
class PublicClientApplicationBuilder internal constructor(clientId: String) :
    ClientApplicationBuilder<PublicClientApplicationBuilder>(clientId) {
    /** Throws [ClientException] for a bad authority: fix the configuration. */
    @Throws(IdFlowException::class)
    fun build(): PublicClientApplication = PublicClientApplication(config)
}

/** Builds a [ConfidentialClientApplication]; from [ConfidentialClientApplication.builder]. */
class ConfidentialClientApplicationBuilder internal constructor(
    clientId: String,
    private val credential: ClientCredential,
) : ClientApplicationBuilder<ConfidentialClientApplicationBuilder>(clientId) {
    /**
     * Sends client credentials to this Azure region's endpoint
     * (`<region>.login.microsoft.com` for the public cloud); the cache keeps
     * the global host. Wins over [autoDetectRegion], as in msal4j.
     */
    fun azureRegion(region: String): ConfidentialClientApplicationBuilder =
        updateConfig { copy(azureRegion = AzureRegion.Named(region)) }

    /**
     * Detects the region (`REGION_NAME`, then the VM's instance metadata,
     * 2 s at most) and falls back to the global endpoint silently; a region
     * named with [azureRegion] wins.
     */
    fun autoDetectRegion(value: Boolean): ConfidentialClientApplicationBuilder = updateConfig {
        when {
            azureRegion is AzureRegion.Named -> this
            value -> copy(azureRegion = AzureRegion.AutoDetect)
            else -> copy(azureRegion = null)
        }
    }

    /** Throws [ClientException] for a bad authority or credential: fix the configuration. */
    @Throws(IdFlowException::class)
    fun build(): ConfidentialClientApplication = ConfidentialClientApplication(config, credential)
}
