package dev.idflow

import dev.idflow.ffi.ClientCredential
import kotlin.coroutines.cancellation.CancellationException
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.fail

/** The idiomatic layer against node-oidc-provider, an OpenID provider no one in this project wrote. */
class OidcFlowTest {
    private lateinit var info: JSONObject
    private lateinit var issuer: String

    @BeforeEach
    fun setUp() {
        info = Servers.oidc()
        issuer = info.getString("issuer")
    }

    private fun client(kind: String): JSONObject = info.getJSONObject("clients").getJSONObject(kind)

    private fun config(clientId: String) = AppConfig(clientId = clientId, authority = issuer, oidcAuthority = true)

    private val apiDefault get() = listOf(info.getJSONObject("api").getString("resource") + "/.default")
    private val apiRead get() = listOf(info.getJSONObject("api").getString("resource") + "/read")

    @Test
    fun clientCredentialsWithSecretPost() = runBlocking {
        val c = client("secret_post")
        val r = ConfidentialClientApplication(config(c.getString("client_id")), ClientCredential.Secret(c.getString("client_secret")))
            .acquireTokenForClient(apiDefault)
        assertTrue(r.accessToken.isNotEmpty())
        assertEquals("Bearer", r.tokenType)
    }

    @Test
    fun clientCredentialsWithSecretBasicBlocking() {
        val c = client("secret_basic")
        val r = ConfidentialClientApplication(config(c.getString("client_id")), ClientCredential.SecretBasic(c.getString("client_secret")))
            .acquireTokenForClientBlocking(apiDefault)
        assertTrue(r.accessToken.isNotEmpty())
    }

    @Test
    fun wrongSecretIsAServiceExceptionInvalidClient() {
        for ((kind, credential) in listOf(
            "secret_post" to ClientCredential.Secret("wrong-secret"),
            "secret_basic" to ClientCredential.SecretBasic("wrong-secret"),
        )) {
            val app = ConfidentialClientApplication(config(client(kind).getString("client_id")), credential)
            val e = assertThrows<ServiceException> { app.acquireTokenForClientBlocking(apiDefault) }
            assertSame(ServiceException::class.java, e.javaClass, kind)
            assertEquals("invalid_client", e.errorCode, kind)
            assertEquals(401, e.statusCode, kind)
            assertTrue(e.headers().containsKey("Content-Type"), "headers: ${e.headers().keys}")
            if (kind == "secret_basic") assertTrue(e.headers().containsKey("WWW-Authenticate"), "headers: ${e.headers().keys}")
        }
    }

    @Test
    fun refreshWithABadTokenIsInteractionRequiredAndCaughtAsServiceException() {
        val app = PublicClientApplication(config(client("native").getString("client_id")))
        val e = assertThrows<InteractionRequiredException> {
            app.acquireTokenByRefreshTokenBlocking("not-a-refresh-token", apiRead)
        }
        assertEquals("invalid_grant", e.errorCode)
        assertEquals(400, e.statusCode)
        try {
            runBlocking { app.acquireTokenByRefreshToken("not-a-refresh-token", apiRead) }
            fail("expected an exception")
        } catch (s: ServiceException) {
            assertInstanceOf(InteractionRequiredException::class.java, s)
        }
    }

    @Test
    fun passingAReservedScopeIsMisuse() {
        val app = PublicClientApplication(config(client("native").getString("client_id")))
        val e = assertThrows<ClientException> { app.initiateDeviceFlowBlocking(listOf("openid")) }
        assertEquals(ErrorKind.CLIENT, e.info.kind)
    }

    @Test
    fun deviceFlowStartsAndCoroutineCancellationStopsThePoll() {
        val app = PublicClientApplication(config(client("native").getString("client_id")))
        val flow = runBlocking { app.initiateDeviceFlow(apiRead) }
        assertTrue(flow.verificationUri().startsWith("http://127.0.0.1:"))
        val handle = CancelHandle()
        assertThrows<CancellationException> {
            runBlocking { withTimeout(1_500) { app.acquireTokenByDeviceFlow(flow, handle) } }
        }
        assertTrue(handle.isCancelled())
    }
}
