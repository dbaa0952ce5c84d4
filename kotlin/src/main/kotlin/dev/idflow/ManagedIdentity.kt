// Managed identity, shaped like MSAL for Java's ManagedIdentityApplication:
// a token for the identity Azure gives the machine or the app, from whichever
// source the environment names.

package dev.idflow

import dev.idflow.ffi.ManagedIdentityConfig
import dev.idflow.ffi.ManagedIdentityId
import dev.idflow.ffi.ManagedIdentitySource
import dev.idflow.ffi.ManagedIdentityTokenResult

/**
 * A managed identity request failed. As MSAL for Java's
 * `MsalManagedIdentityException`, it names the [source] that was asked;
 * [cause] is the kind-specific exception the core chose ([ClientException]
 * for an identity the source does not serve or an invalid endpoint,
 * [ServiceException] for the source's refusal or an unusable answer,
 * [ThrottlingException] for a repeat blocked locally), and [errorCode],
 * [action] and [mitigation] are its.
 */
class ManagedIdentityException(
    /** The source the request went to (App Service, IMDS, …). */
    val source: ManagedIdentitySource,
    /** The core's decision, as the kind-specific exception. */
    val error: IdFlowException,
) : IdFlowException(error.info, error)

/**
 * Tokens for one managed identity: `SystemAssigned`, or a user-assigned one
 * by `ClientId`, `ResourceId` or `ObjectId` ([ManagedIdentityId]). Tokens are
 * cached (msal's cache format); a `claims` challenge from a resource skips
 * the cached token.
 *
 * ```
 * val app = ManagedIdentityApplication(ManagedIdentityId.SystemAssigned)
 * val token = app.acquireTokenForClient("https://management.azure.com")
 * ```
 */
class ManagedIdentityApplication private constructor(
    /** The generated object, for anything this layer does not wrap (it throws `AuthException`). */
    val native: dev.idflow.ffi.ManagedIdentityClient,
) {
    /** Throws [ClientException] for an invalid configuration. */
    @JvmOverloads
    @Throws(IdFlowException::class)
    constructor(identity: ManagedIdentityId, config: ManagedIdentityConfig = ManagedIdentityConfig()) :
        this(translated { dev.idflow.ffi.ManagedIdentityClient(identity, config.copy(clientSku = config.clientSku ?: KOTLIN_CLIENT_SKU)) })

    /** The source requests go to now (read from the environment). */
    val source: ManagedIdentitySource get() = native.source()

    /** A token for [resource]: the cache, else the source. Throws [ManagedIdentityException]. */
    @Throws(ManagedIdentityException::class)
    suspend fun acquireTokenForClient(resource: String, claims: String? = null): ManagedIdentityTokenResult =
        try {
            translated { native.acquireTokenForClient(resource, claims) }
        } catch (e: ManagedIdentityException) {
            throw e
        } catch (e: IdFlowException) {
            throw ManagedIdentityException(source, e)
        }

    /** [acquireTokenForClient], blocking the calling thread. */
    @JvmOverloads
    @Throws(ManagedIdentityException::class)
    fun acquireTokenForClientBlocking(resource: String, claims: String? = null): ManagedIdentityTokenResult =
        blocking { acquireTokenForClient(resource, claims) }
}
