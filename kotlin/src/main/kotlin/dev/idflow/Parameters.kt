// Request parameters in MSAL for Java's shape, for the calls a multi-tenant
// service makes per tenant: `ClientCredentialParameters.builder(scopes)
// .tenant("contoso.onmicrosoft.com").build()` passed to `app.acquireToken(...)`.
//
// The names follow msal4j's ClientCredentialParameters, SilentParameters,
// OnBehalfOfParameters and AuthorizationCodeParameters
// (AzureAD/microsoft-authentication-library-for-java
// msal4j-sdk/src/main/java/com/microsoft/aad/msal4j/ClientCredentialParameters.java,
// SilentParameters.java, OnBehalfOfParameters.java, AuthorizationCodeParameters.java). A `tenant` sends the
// request to that tenant of the app's cloud and keeps its tokens under that
// tenant (the core's `for_tenant`); a B2C, ADFS or OpenID authority refuses
// it with a [ClientException], as MSAL refuses a tenant override there.

@file:JvmName("IdFlowParameters")

package dev.idflow

import java.net.URI
import java.util.concurrent.CompletableFuture

/** An app-only token request ([ConfidentialClientApplication.acquireTokenForClient]'s arguments). */
class ClientCredentialParameters private constructor(
    val scopes: List<String>,
    val claims: String?,
    val tenant: String?,
) {
    /** Fills one [ClientCredentialParameters]; from [ClientCredentialParameters.builder]. */
    class Builder internal constructor(private val scopes: List<String>) {
        private var claims: String? = null
        private var tenant: String? = null

        /** A claims request (JSON object); always sent to the server. */
        fun claims(value: String?): Builder = apply { claims = value }

        /** The tenant this request goes to, in place of the app's (same cloud). */
        fun tenant(value: String?): Builder = apply { tenant = value }

        fun build(): ClientCredentialParameters = ClientCredentialParameters(scopes, claims, tenant)
    }

    companion object {
        @JvmStatic
        fun builder(scopes: Set<String>): Builder = Builder(scopes.toList())
    }
}

/** A silent request ([ClientApplication.acquireTokenSilent]'s arguments). */
class SilentParameters private constructor(
    val scopes: List<String>,
    val account: AccountInfo?,
    val claims: String?,
    val forceRefresh: Boolean,
    val tenant: String?,
) {
    /** Fills one [SilentParameters]; from [SilentParameters.builder]. */
    class Builder internal constructor(private val scopes: List<String>, private val account: AccountInfo?) {
        private var claims: String? = null
        private var forceRefresh = false
        private var tenant: String? = null

        /** A claims request (JSON object): skips the cached access token. */
        fun claims(value: String?): Builder = apply { claims = value }

        /** Skips the cached access token and redeems the refresh token. */
        fun forceRefresh(value: Boolean): Builder = apply { forceRefresh = value }

        /**
         * The tenant whose tokens answer this call, in place of the app's:
         * only that tenant's cached tokens are used, and a refresh goes to it.
         */
        fun tenant(value: String?): Builder = apply { tenant = value }

        fun build(): SilentParameters = SilentParameters(scopes, account, claims, forceRefresh, tenant)
    }

    companion object {
        @JvmStatic
        fun builder(scopes: Set<String>, account: AccountInfo?): Builder = Builder(scopes.toList(), account)
    }
}

/** An on-behalf-of request ([ConfidentialClientApplication.acquireTokenOnBehalfOf]'s arguments). */
class OnBehalfOfParameters private constructor(
    val scopes: List<String>,
    val userAssertion: String,
    val claims: String?,
    val tenant: String?,
) {
    /** Fills one [OnBehalfOfParameters]; from [OnBehalfOfParameters.builder]. */
    class Builder internal constructor(private val scopes: List<String>, private val userAssertion: String) {
        private var claims: String? = null
        private var tenant: String? = null

        /** A claims request (JSON object); always sent to the server. */
        fun claims(value: String?): Builder = apply { claims = value }

        /** The tenant this request goes to, in place of the app's (same cloud). */
        fun tenant(value: String?): Builder = apply { tenant = value }

        fun build(): OnBehalfOfParameters = OnBehalfOfParameters(scopes, userAssertion, claims, tenant)
    }

    override fun toString(): String = "OnBehalfOfParameters(scopes=$scopes, tenant=$tenant)"

    companion object {
        /** [userAssertion]: the access token your API received (kept out of [toString]). */
        @JvmStatic
        fun builder(scopes: Set<String>, userAssertion: String): Builder = Builder(scopes.toList(), userAssertion)
    }
}

/**
 * A code your app received on its own redirect, to redeem with `acquireToken`
 * (prefer [ClientApplication.initiateAuthCodeFlow] when the app starts the
 * sign-in itself). A multi-tenant web app signs users in at `organizations`
 * and redeems each code at the user's tenant with [Builder.tenant].
 */
class AuthorizationCodeParameters private constructor(
    val authorizationCode: String,
    val redirectUri: URI,
    val scopes: List<String>,
    val claims: String?,
    val codeVerifier: String?,
    val tenant: String?,
) {
    /** Fills one [AuthorizationCodeParameters]; from [AuthorizationCodeParameters.builder]. */
    class Builder internal constructor(private val authorizationCode: String, private val redirectUri: URI) {
        private var scopes: List<String> = emptyList()
        private var claims: String? = null
        private var codeVerifier: String? = null
        private var tenant: String? = null

        /** The scopes to ask for (none: only the sign-in scopes). */
        fun scopes(value: Set<String>): Builder = apply { scopes = value.toList() }

        /** A claims request (JSON object); always sent to the server. */
        fun claims(value: String?): Builder = apply { claims = value }

        /** The PKCE verifier of the authorize request's `code_challenge`, when it sent one. */
        fun codeVerifier(value: String?): Builder = apply { codeVerifier = value }

        /** The tenant the code is redeemed at, in place of the app's (same cloud). */
        fun tenant(value: String?): Builder = apply { tenant = value }

        fun build(): AuthorizationCodeParameters =
            AuthorizationCodeParameters(authorizationCode, redirectUri, scopes, claims, codeVerifier, tenant)
    }

    override fun toString(): String = "AuthorizationCodeParameters(redirectUri=$redirectUri, scopes=$scopes, tenant=$tenant)"

    companion object {
        /**
         * [authorizationCode]: the redirect's `code` (kept out of [toString]);
         * [redirectUri]: the redirect URI of the authorize request that issued it.
         */
        @JvmStatic
        fun builder(authorizationCode: String, redirectUri: URI): Builder = Builder(authorizationCode, redirectUri)
    }
}

/** Tokens for a redeemed code, from a confidential app (a web app): the app's tenant, or the one [parameters] name. */
@Throws(IdFlowException::class)
suspend fun ConfidentialClientApplication.acquireToken(parameters: AuthorizationCodeParameters): TokenResult =
    translated {
        val p = parameters
        when (val tenant = p.tenant) {
            null -> native.acquireTokenByAuthorizationCode(
                p.authorizationCode, p.scopes, p.redirectUri.toString(), null, p.codeVerifier, p.claims,
            )
            else -> native.forTenant(tenant).use {
                it.acquireTokenByAuthorizationCode(
                    p.authorizationCode, p.scopes, p.redirectUri.toString(), null, p.codeVerifier, p.claims,
                )
            }
        }
    }

/** Tokens for a redeemed code, from a public app: the app's tenant, or the one [parameters] name. */
@Throws(IdFlowException::class)
suspend fun PublicClientApplication.acquireToken(parameters: AuthorizationCodeParameters): TokenResult =
    translated {
        val p = parameters
        when (val tenant = p.tenant) {
            null -> native.acquireTokenByAuthorizationCode(
                p.authorizationCode, p.scopes, p.redirectUri.toString(), null, p.codeVerifier, p.claims,
            )
            else -> native.forTenant(tenant).use {
                it.acquireTokenByAuthorizationCode(
                    p.authorizationCode, p.scopes, p.redirectUri.toString(), null, p.codeVerifier, p.claims,
                )
            }
        }
    }

/** An app-only token for [parameters]: the app's tenant, or the one they name. */
@Throws(IdFlowException::class)
suspend fun ConfidentialClientApplication.acquireToken(parameters: ClientCredentialParameters): TokenResult =
    when (val tenant = parameters.tenant) {
        null -> acquireTokenForClient(parameters.scopes, parameters.claims)
        else -> translated {
            native.forTenant(tenant).use { it.acquireTokenForClient(parameters.scopes, parameters.claims) }
        }
    }

/** An on-behalf-of token for [parameters]: the app's tenant, or the one they name. */
@Throws(IdFlowException::class)
suspend fun ConfidentialClientApplication.acquireToken(parameters: OnBehalfOfParameters): TokenResult =
    when (val tenant = parameters.tenant) {
        null -> acquireTokenOnBehalfOf(parameters.userAssertion, parameters.scopes, parameters.claims)
        else -> translated {
            native.forTenant(tenant).use {
                it.acquireTokenOnBehalfOf(parameters.userAssertion, parameters.scopes, parameters.claims)
            }
        }
    }

/** A silent token for [parameters] from a confidential app (a web app's signed-in user). */
@Throws(IdFlowException::class)
suspend fun ConfidentialClientApplication.acquireTokenSilently(parameters: SilentParameters): TokenResult =
    when (val tenant = parameters.tenant) {
        null -> acquireTokenSilent(parameters.scopes, parameters.account, parameters.claims, parameters.forceRefresh)
        else -> translated {
            native.forTenant(tenant).use {
                it.acquireTokenSilent(parameters.scopes, parameters.account, parameters.claims, parameters.forceRefresh)
            }
        }
    }

/** A silent token for [parameters] from a public app. */
@Throws(IdFlowException::class)
suspend fun PublicClientApplication.acquireTokenSilently(parameters: SilentParameters): TokenResult =
    when (val tenant = parameters.tenant) {
        null -> acquireTokenSilent(parameters.scopes, parameters.account, parameters.claims, parameters.forceRefresh)
        else -> translated {
            native.forTenant(tenant).use {
                it.acquireTokenSilent(parameters.scopes, parameters.account, parameters.claims, parameters.forceRefresh)
            }
        }
    }

// CompletableFuture variants, MSAL for Java's shape (its acquireToken and
// acquireTokenSilently return futures).

/** [acquireToken] as a [CompletableFuture]. */
fun ConfidentialClientApplication.acquireTokenAsync(parameters: ClientCredentialParameters): CompletableFuture<TokenResult> =
    future { acquireToken(parameters) }

/** [acquireToken] as a [CompletableFuture]. */
fun ConfidentialClientApplication.acquireTokenAsync(parameters: OnBehalfOfParameters): CompletableFuture<TokenResult> =
    future { acquireToken(parameters) }

/** [acquireToken] as a [CompletableFuture]. */
fun ConfidentialClientApplication.acquireTokenAsync(parameters: AuthorizationCodeParameters): CompletableFuture<TokenResult> =
    future { acquireToken(parameters) }

/** [acquireToken] as a [CompletableFuture]. */
fun PublicClientApplication.acquireTokenAsync(parameters: AuthorizationCodeParameters): CompletableFuture<TokenResult> =
    future { acquireToken(parameters) }

/** [acquireTokenSilently] as a [CompletableFuture]. */
fun ConfidentialClientApplication.acquireTokenSilentlyAsync(parameters: SilentParameters): CompletableFuture<TokenResult> =
    future { acquireTokenSilently(parameters) }

/** [acquireTokenSilently] as a [CompletableFuture]. */
fun PublicClientApplication.acquireTokenSilentlyAsync(parameters: SilentParameters): CompletableFuture<TokenResult> =
    future { acquireTokenSilently(parameters) }
