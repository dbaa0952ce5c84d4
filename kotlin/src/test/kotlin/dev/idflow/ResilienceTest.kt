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
import dev.idflow.ffi.RecommendedAction
import java.io.File
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.assertThrows

/**
 * Retry, client-side throttling and claims challenges through the idiomatic
 * Kotlin layer against the emulator (its request log shows what reached it),
 * and the WWW-Authenticate helpers on testdata/www_authenticate.json (the
 * vectors every language runs).
 */
class ResilienceTest {
    private val em: Emulator by lazy { Servers.emulator() }

    @BeforeEach
    fun reset() {
        em.reset()
        em.request("DELETE", "/_admin/requests")
    }

    private fun confidential() =
        ConfidentialClientApplication(AppConfig(clientId = CONFIDENTIAL_CLIENT, authority = em.authority(TENANT)), ClientCredential.Secret(SECRET))

    private fun tokens() = em.requests().filter { it.getString("endpoint") == "token" }

    private fun claimsSent(record: JSONObject): JSONObject? {
        val params = record.getJSONArray("params")
        for (i in 0 until params.length()) {
            val p = params.getJSONArray(i)
            if (p.getString(0) == "claims") return JSONObject(p.getString(1))
        }
        return null
    }

    @Test
    fun `a single 5xx is retried once and succeeds`() {
        em.fault(JSONObject("""{"match": {"endpoint": "token"}, "count": 1, "effect": {"kind": "status", "status": 500}}"""))
        val r = confidential().use { it.acquireTokenForClientBlocking(APP_SCOPE) }
        assertTrue(r.accessToken.isNotEmpty())
        val sent = tokens()
        assertEquals(listOf(500, 200), sent.map { it.getInt("status") })
        assertEquals(sent[0].getString("correlation_id"), sent[1].getString("correlation_id"))
    }

    @Test
    fun `503 with Retry-After is not retried, and a disabled retry sends once`() {
        em.preset("service_unavailable_503")
        val e = assertThrows<ServiceException> { confidential().use { it.acquireTokenForClientBlocking(APP_SCOPE) } }
        assertEquals("service_not_available", e.errorCode)
        assertEquals(5_000L, e.retryAfterMs)
        assertEquals(listOf("5"), e.headers()["Retry-After"])
        assertEquals(1, tokens().size)

        em.request("DELETE", "/_admin/requests")
        em.fault(JSONObject("""{"match": {"endpoint": "token"}, "count": 1, "effect": {"kind": "status", "status": 502}}"""))
        val config = AppConfig(clientId = PUBLIC_CLIENT, authority = em.authority(TENANT), retryEnabled = false)
        val e2 = assertThrows<ServiceException> { PublicClientApplication(config).use { it.acquireTokenByUsernamePasswordBlocking(USER, PASSWORD, GRAPH) } }
        assertEquals(502, e2.statusCode)
        assertEquals(1, tokens().size)
    }

    @Test
    fun `a throttled repeat is a ThrottlingException carrying the original failure`() {
        em.preset("throttled_429")
        confidential().use { app ->
            val first = assertThrows<ServiceException> { app.acquireTokenForClientBlocking(APP_SCOPE) }
            assertSame(ServiceException::class.java, first.javaClass)
            val t = assertThrows<ThrottlingException> { app.acquireTokenForClientBlocking(APP_SCOPE) }
            assertEquals(1, tokens().size, "no request while throttled")
            assertEquals("temporarily_unavailable", t.errorCode)
            assertEquals(ErrorKind.THROTTLED, t.info.kind)
            assertEquals(429, t.statusCode)
            assertEquals(first.errorCodes, t.errorCodes)
            assertEquals(first.correlationId, t.correlationId)
            assertEquals(listOf("30"), t.headers()["retry-after"])
            assertTrue(t.retryInMs in 28_000L..30_000L, "retryInMs ${t.retryInMs}")
            assertEquals(t.retryAfterMs, t.retryInMs)
            assertTrue(t.isRetryable)
            assertEquals(RecommendedAction.RetryAfter::class, t.action::class)
        }
        // Another client object has its own throttle.
        assertTrue(confidential().use { it.acquireTokenForClientBlocking(APP_SCOPE) }.accessToken.isNotEmpty())
    }

    @Test
    fun `a claims challenge round trip with client capabilities on the wire`() {
        val mfa = """{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"""
        em.fault(JSONObject().put("match", JSONObject().put("endpoint", "token")).put("count", JSONObject.NULL)
            .put("effect", JSONObject().put("kind", "require_claims").put("claims", mfa)))
        val config = AppConfig(clientId = PUBLIC_CLIENT, authority = em.authority(TENANT), clientCapabilities = listOf("cp1"))
        PublicClientApplication(config).use { app ->
            val e = assertThrows<InteractionRequiredException> { app.acquireTokenByUsernamePasswordBlocking(USER, PASSWORD, GRAPH) }
            assertEquals("interaction_required", e.errorCode)
            assertEquals(mfa, e.claims)
            val r = app.acquireTokenByUsernamePasswordBlocking(USER, PASSWORD, GRAPH, e.claims)
            assertTrue(r.accessToken.isNotEmpty())
        }
        val sent = tokens()
        assertEquals(JSONObject("""{"access_token":{"xms_cc":{"values":["cp1"]}}}""").toMap(), claimsSent(sent[0])?.toMap())
        assertEquals(
            JSONObject("""{"access_token":{"acrs":{"essential":true,"value":"c1"},"xms_cc":{"values":["cp1"]}}}""").toMap(),
            claimsSent(sent[1])?.toMap(),
        )
    }

    @Test
    fun `invalid claims are a ClientException before any request`() {
        val e = assertThrows<ClientException> {
            PublicClientApplication(PUBLIC_CLIENT, em.authority(TENANT)).use { it.acquireTokenByUsernamePasswordBlocking(USER, PASSWORD, GRAPH, "[1]") }
        }
        assertEquals("invalid_json_claims_format", e.errorCode)
        assertEquals(0, tokens().size)
    }

    @TestFactory
    fun wwwAuthenticateVectors(): List<DynamicTest> {
        val base = File(System.getProperty("idflow.vectors") ?: "../testdata/vectors.json").absoluteFile.parentFile
        val cases = JSONObject(File(base, "www_authenticate.json").readText()).getJSONArray("cases")
        assertTrue(cases.length() >= 12)
        return (0 until cases.length()).map { i ->
            val case = cases.getJSONObject(i)
            DynamicTest.dynamicTest(case.getString("name")) { wwwAuthenticateCase(case) }
        }
    }

    private fun wwwAuthenticateCase(case: JSONObject) {
        val name = case.getString("name")
        val raw = case.getJSONArray("headers")
        val headers = (0 until raw.length()).map { raw.getJSONArray(it).let { h -> Header(h.getString(0), h.getString(1)) } }
        val wantChallenge = if (case.isNull("claims_challenge")) null else case.getString("claims_challenge")
        assertEquals(wantChallenge, IdFlow.claimsChallenge(headers), "[$name] claimsChallenge")
        if (case.has("error")) {
            val e = assertThrows<ClientException>("[$name]") { IdFlow.parseWwwAuthenticate(headers) }
            assertEquals(case.getString("error"), e.errorCode, "[$name]")
            return
        }
        val parsed = IdFlow.parseWwwAuthenticate(headers)
        val want = case.getJSONArray("challenges")
        assertEquals(want.length(), parsed.size, "[$name] challenges")
        for (i in parsed.indices) {
            val w = want.getJSONObject(i)
            assertEquals(w.getString("scheme"), parsed[i].scheme, "[$name] scheme")
            assertEquals(w.getJSONObject("params").toMap(), parsed[i].params, "[$name] params")
        }
        val opt = { k: String -> if (case.isNull(k)) null else case.getString(k) }
        assertEquals(opt("claims"), parsed.firstOrNull()?.claims, "[$name] claims")
        assertEquals(opt("authority"), parsed.firstOrNull()?.authority, "[$name] authority")
    }

    @Test
    fun `claimsChallenge takes HttpURLConnection-style headers`() {
        val headers: Map<String?, List<String?>?> =
            mapOf(null to listOf("HTTP/1.1 401"), "WWW-Authenticate" to listOf("""Bearer error="insufficient_claims", claims="{\"a\":1}""""))
        assertEquals("""{"a":1}""", IdFlow.claimsChallenge(headers))
        assertNull(IdFlow.claimsChallenge(mapOf<String?, List<String?>?>("WWW-Authenticate" to listOf("Bearer"))))
        assertInstanceOf(AuthChallenge::class.java, IdFlow.parseWwwAuthenticate(headers).single())
    }
}
