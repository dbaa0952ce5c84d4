package dev.idflow

import dev.idflow.Emulator.Companion.APP_SCOPE
import dev.idflow.Emulator.Companion.CONFIDENTIAL_CLIENT
import dev.idflow.Emulator.Companion.GRAPH
import dev.idflow.Emulator.Companion.PASSWORD
import dev.idflow.Emulator.Companion.PUBLIC_CLIENT
import dev.idflow.Emulator.Companion.SECRET
import dev.idflow.Emulator.Companion.TENANT
import dev.idflow.Emulator.Companion.USER
import dev.idflow.ffi.ClientCredential
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * A per-request tenant through MSAL for Java's parameter builders
 * (`ClientCredentialParameters.builder(scopes).tenant(...)`,
 * `SilentParameters.builder(scopes, account).tenant(...)`) against the
 * emulator: each tenant's request names it in the URL and its tokens answer
 * only that tenant's later calls.
 */
class TenantParametersTest {
    private lateinit var em: Emulator

    @BeforeEach
    fun setUp() {
        em = Servers.emulator()
        em.reset()
    }

    private fun tokenTenants(): List<String> =
        em.requests().filter { it.optString("endpoint") == "token" }.map { it.optString("tenant") }

    @Test
    fun clientCredentialsGoToEachTenantAndHitItsCache() {
        val app = ConfidentialClientApplication.builder(CONFIDENTIAL_CLIENT, ClientCredential.Secret(SECRET))
            .authority(em.authority(TENANT))
            .build()
        fun params(tenant: String?) = ClientCredentialParameters.builder(APP_SCOPE.toSet()).tenant(tenant).build()
        val a = app.acquireTokenAsync(params(A)).get(20, TimeUnit.SECONDS)
        val b = app.acquireTokenAsync(params(B)).get(20, TimeUnit.SECONDS)
        assertEquals(TokenSource.IDENTITY_PROVIDER, a.tokenSource)
        assertNotEquals(a.accessToken, b.accessToken)
        assertEquals(listOf(A, B), tokenTenants())

        val againA = app.acquireTokenAsync(params(A)).get(20, TimeUnit.SECONDS)
        val againB = app.acquireTokenAsync(params(B)).get(20, TimeUnit.SECONDS)
        assertEquals(TokenSource.CACHE, againA.tokenSource)
        assertEquals(a.accessToken, againA.accessToken)
        assertEquals(b.accessToken, againB.accessToken)
        assertEquals(2, tokenTenants().size, "cache hits send nothing")

        // No tenant: the app's own, which has no token yet.
        val own = app.acquireTokenAsync(params(null)).get(20, TimeUnit.SECONDS)
        assertEquals(TokenSource.IDENTITY_PROVIDER, own.tokenSource)
        assertEquals(listOf(A, B, TENANT), tokenTenants())
    }

    @Test
    fun silentCallsPerTenantRefreshAgainstThatTenant() = runBlocking {
        val app = PublicClientApplication.builder(PUBLIC_CLIENT).authority(em.authority(TENANT)).build()
        val signedIn = app.acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH)
        val account = signedIn.account!!
        fun params(tenant: String?) = SilentParameters.builder(GRAPH.toSet(), account).tenant(tenant).build()

        val a = app.acquireTokenSilently(params(A))
        assertEquals(TokenSource.IDENTITY_PROVIDER, a.tokenSource)
        val refresh = em.requests().last { it.optString("endpoint") == "token" }
        assertEquals("refresh_token", refresh.optString("grant_type"))
        assertEquals(A, refresh.optString("tenant"))
        assertEquals(account.homeAccountId, a.account!!.homeAccountId)

        val hitA = app.acquireTokenSilentlyAsync(params(A)).get(20, TimeUnit.SECONDS)
        assertEquals(TokenSource.CACHE, hitA.tokenSource)
        assertEquals(a.accessToken, hitA.accessToken)
        val home = app.acquireTokenSilently(params(null))
        assertEquals(TokenSource.CACHE, home.tokenSource)
        assertEquals(signedIn.accessToken, home.accessToken, "the home tenant answers from its own token")
        assertEquals(listOf(TENANT, A), tokenTenants())
    }

    @Test
    fun aTenantOnAB2cAuthorityIsAClientException() {
        val app = ConfidentialClientApplication.builder(CONFIDENTIAL_CLIENT, ClientCredential.Secret(SECRET))
            .b2cAuthority("https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin")
            .build()
        val params = ClientCredentialParameters.builder(APP_SCOPE.toSet()).tenant(A).build()
        val failure = assertThrows<ExecutionException> { app.acquireTokenAsync(params).get(20, TimeUnit.SECONDS) }
        val e = assertInstanceOf(ClientException::class.java, failure.cause)
        assertEquals("invalid_parameter", e.errorCode)
        assertTrue(e.message!!.contains("B2C"), e.message)
    }

    private companion object {
        const val A = "tenant-a.example"
        const val B = "tenant-b.example"
    }
}
