package dev.idflow

import dev.idflow.Emulator.Companion.GRAPH
import dev.idflow.Emulator.Companion.PUBLIC_CLIENT
import dev.idflow.Emulator.Companion.USER
import dev.idflow.ffi.AuthException
import java.net.URI
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import kotlinx.coroutines.runBlocking
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.fail

/** Flows as JSON, completed by another application instance (as a web app's other worker would). */
class WebFlowTest {
    private lateinit var em: Emulator

    @BeforeEach
    fun setUp() {
        em = Servers.emulator()
        em.reset()
    }

    private fun publicClient() = PublicClientApplication(PUBLIC_CLIENT, em.authority("organizations"))

    private fun location(url: String): String {
        val r = Servers.http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.discarding())
        assertTrue(r.statusCode() in 300..399, "redirect expected, got ${r.statusCode()}")
        return r.headers().firstValue("location").orElseThrow()
    }

    private inline fun <reified T : Throwable> throws(noinline block: suspend () -> Unit): T {
        val e = assertThrows<Throwable> { runBlocking { block() } }
        if (e is AuthException) fail("the generated AuthException escaped: $e")
        return assertInstanceOf(T::class.java, e, "got $e")
    }

    @Test
    fun anAuthCodeFlowTravelsAsJsonAndIsRedeemedOnceByAnotherInstance() = runBlocking {
        val options = AuthorizeOptions(state = "return-to-inbox-7f3a", loginHint = USER, maxAge = 3600uL)
        val json = publicClient().use { it.initiateAuthCodeFlow(GRAPH, "http://127.0.0.1:8765/cb", options).toJson() }
        val data = JSONObject(json)
        for (k in listOf("state", "redirect_uri", "scope", "auth_uri", "code_verifier", "nonce", "claims_challenge", "max_age")) {
            assertTrue(data.has(k), "$k in $json")
        }
        assertEquals("return-to-inbox-7f3a", data.getString("state"))

        val flow = authCodeFlowFromJson(json)
        val redirect = location(flow.authUri())
        val worker = publicClient()
        val r = worker.acquireTokenByAuthCodeFlow(flow, redirect)
        assertEquals(USER, r.account?.username)

        val replay = throws<ClientException> { worker.acquireTokenByAuthCodeFlow(flow, redirect) }
        assertEquals("state_mismatch", replay.errorCode)
        val forged = throws<ClientException> {
            publicClient().acquireTokenByAuthCodeFlow(authCodeFlowFromJson(json), redirect.replace("return-to-inbox-7f3a", "forged"))
        }
        assertEquals("state_mismatch", forged.errorCode)
    }

    @Test
    fun malformedJsonIsAnInvalidParameterWithoutTheVerifier() {
        val json = runBlocking { publicClient().initiateAuthCodeFlow(GRAPH, "http://127.0.0.1/cb").toJson() }
        val broken = JSONObject(json).put("code_verifier", "short").toString()
        val e = throws<ClientException> { authCodeFlowFromJson(broken) }
        assertEquals("invalid_parameter", e.errorCode)
        assertFalse(e.message.orEmpty().contains(JSONObject(json).getString("code_verifier")))
        assertEquals("invalid_parameter", throws<ClientException> { deviceCodeFlowFromJson("{}") }.errorCode)
    }

    @Test
    fun aBadResponseModeIsAClientException() {
        val e = throws<ClientException> {
            publicClient().initiateAuthCodeFlow(GRAPH, "http://127.0.0.1/cb", AuthorizeOptions(responseMode = "web_message"))
        }
        assertEquals("invalid_parameter", e.errorCode)
    }

    @Test
    fun aDeviceFlowTravelsAsJsonAndAnotherInstancePollsIt() = runBlocking {
        val flow = publicClient().initiateDeviceFlow(GRAPH)
        val json = flow.toJson()
        assertTrue(JSONObject(json).has("device_code"))
        em.approve(flow.userCode())
        val r = publicClient().acquireTokenByDeviceFlow(deviceCodeFlowFromJson(json))
        assertEquals(USER, r.account?.username)
    }
}
