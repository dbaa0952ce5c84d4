package dev.idflow

import dev.idflow.Emulator.Companion.CONFIDENTIAL_CLIENT
import dev.idflow.Emulator.Companion.GRAPH
import dev.idflow.Emulator.Companion.SECRET
import dev.idflow.Emulator.Companion.TENANT
import dev.idflow.Emulator.Companion.USER
import dev.idflow.ffi.ClientCredential
import java.net.URI
import java.net.URLDecoder
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.security.MessageDigest
import java.util.Base64
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

/**
 * MSAL for Java's `AuthorizationCodeParameters.builder(code, redirectUri)
 * .tenant(...)` against the emulator: a code the app received on its own
 * redirect is redeemed at the tenant the parameters name, and the tokens are
 * kept under that tenant.
 */
class AuthorizationCodeParametersTest {
    private lateinit var em: Emulator

    @BeforeEach
    fun setUp() {
        em = Servers.emulator()
        em.reset()
    }

    private fun confidential() = ConfidentialClientApplication.builder(CONFIDENTIAL_CLIENT, ClientCredential.Secret(SECRET))
        .authority(em.authority(TENANT))
        .build()

    private fun tokenRequests() = em.requests().filter { it.optString("endpoint") == "token" }

    /** A code from the emulator's authorize endpoint for [app], sent with an S256 challenge of [VERIFIER]. */
    private fun codeFor(app: ConfidentialClientApplication): String {
        val challenge = Base64.getUrlEncoder().withoutPadding()
            .encodeToString(MessageDigest.getInstance("SHA-256").digest(VERIFIER.toByteArray()))
        val url = runBlocking {
            app.native.getAuthorizationRequestUrl(GRAPH, REDIRECT, AuthorizeOptions(), null, challenge)
        }
        val r = Servers.http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.discarding())
        val location = r.headers().firstValue("location").orElseThrow { AssertionError("no redirect: ${r.statusCode()}") }
        return URI.create(location).rawQuery.split('&')
            .map { it.split('=', limit = 2) }
            .first { it[0] == "code" }
            .let { URLDecoder.decode(it[1], Charsets.UTF_8) }
    }

    @Test
    fun aCodeIsRedeemedAtTheNamedTenantAndCachedUnderIt() = runBlocking {
        val app = confidential()
        val code = codeFor(app)
        val params = AuthorizationCodeParameters.builder(code, URI.create(REDIRECT))
            .scopes(GRAPH.toSet())
            .codeVerifier(VERIFIER)
            .tenant(A)
            .build()
        assertFalse(params.toString().contains(code), "the code stays out of toString: $params")

        val r = app.acquireTokenAsync(params).get(20, TimeUnit.SECONDS)
        assertEquals(TokenSource.IDENTITY_PROVIDER, r.tokenSource)
        assertEquals(USER, r.account?.username)
        val sent = tokenRequests().single()
        assertEquals("authorization_code", sent.optString("grant_type"))
        assertEquals(A, sent.optString("tenant"))

        // Tenant A's later silent calls answer from this token; the app's own
        // tenant has none and refreshes there.
        val account = r.account!!
        val hit = app.acquireTokenSilently(SilentParameters.builder(GRAPH.toSet(), account).tenant(A).build())
        assertEquals(TokenSource.CACHE, hit.tokenSource)
        assertEquals(r.accessToken, hit.accessToken)
        val home = app.acquireTokenSilently(SilentParameters.builder(GRAPH.toSet(), account).build())
        assertEquals(TokenSource.IDENTITY_PROVIDER, home.tokenSource)
        assertNotEquals(r.accessToken, home.accessToken)
        assertEquals(listOf(A, TENANT), tokenRequests().map { it.optString("tenant") })
    }

    @Test
    fun withoutATenantTheCodeIsRedeemedAtTheAppsTenant() = runBlocking {
        val app = confidential()
        val params = AuthorizationCodeParameters.builder(codeFor(app), URI.create(REDIRECT))
            .scopes(GRAPH.toSet())
            .codeVerifier(VERIFIER)
            .build()
        val r = app.acquireToken(params)
        assertEquals(USER, r.account?.username)
        assertEquals(listOf(TENANT), tokenRequests().map { it.optString("tenant") })
    }

    private companion object {
        const val A = "tenant-a.example"
        const val REDIRECT = "http://127.0.0.1:8765/cb"
        const val VERIFIER = "kotlin-test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
    }
}
