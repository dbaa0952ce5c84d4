package dev.idflow

import dev.idflow.Emulator.Companion.APP_SCOPE
import dev.idflow.Emulator.Companion.CONFIDENTIAL_CLIENT
import dev.idflow.Emulator.Companion.GRAPH
import dev.idflow.Emulator.Companion.OBO_SCOPE
import dev.idflow.Emulator.Companion.PASSWORD
import dev.idflow.Emulator.Companion.PUBLIC_CLIENT
import dev.idflow.Emulator.Companion.SECRET
import dev.idflow.Emulator.Companion.TENANT
import dev.idflow.Emulator.Companion.USER
import dev.idflow.ffi.AuthException
import dev.idflow.ffi.ClientCredential
import dev.idflow.ffi.RecommendedAction
import java.net.ConnectException
import java.net.ServerSocket
import java.net.SocketException
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import kotlin.coroutines.cancellation.CancellationException
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.fail
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.CsvSource

/** Every flow the emulator supports, through the idiomatic layer, with success and each failure class. */
class FlowTest {
    private lateinit var em: Emulator

    @BeforeEach
    fun setUp() {
        em = Servers.emulator()
        em.reset()
    }

    private fun publicClient(tenant: String = "organizations") = PublicClientApplication(PUBLIC_CLIENT, em.authority(tenant))

    private fun confidential(credential: ClientCredential = ClientCredential.Secret(SECRET)) =
        ConfidentialClientApplication(CONFIDENTIAL_CLIENT, em.authority(TENANT), credential)

    private fun tokenMatch(clientId: String, grantType: String? = null): JSONObject {
        val m = JSONObject().put("endpoint", "token").put("client_id", clientId)
        if (grantType != null) m.put("grant_type", grantType)
        return m
    }

    /** Runs [block] expecting [T]; returns it. Also checks that nothing generated escapes. */
    private inline fun <reified T : Throwable> throws(noinline block: suspend () -> Unit): T {
        val e = assertThrows<Throwable> { runBlocking { block() } }
        if (e is AuthException) fail("the generated AuthException escaped: $e")
        return assertInstanceOf(T::class.java, e, "got $e")
    }

    private suspend fun ropc(app: ClientApplication = publicClient()) =
        app.acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH)

    // ---- device code ----

    @Test
    fun deviceCodeSucceedsOnceApprovedAndSendsTheKotlinSku() = runBlocking {
        val app = publicClient()
        val flow = app.initiateDeviceFlow(GRAPH)
        assertTrue(flow.message().contains(flow.userCode()))
        em.approve(flow.userCode())
        val r = app.acquireTokenByDeviceFlow(flow)
        assertTrue(r.accessToken.isNotEmpty())
        assertEquals(USER, r.account?.username)
        val skus =
            em.requests().flatMap { req ->
                val h = req.getJSONArray("headers")
                (0 until h.length()).map { h.getJSONArray(it) }.filter { it.getString(0) == "x-client-sku" }.map { it.getString(1) }
            }
        assertTrue(skus.isNotEmpty() && skus.all { it == KOTLIN_CLIENT_SKU }, "x-client-sku: $skus")
    }

    @Test
    fun deviceCodeDeclinedIsAClientExceptionOfTheCancelledKind() {
        val app = publicClient()
        val flow = runBlocking { app.initiateDeviceFlow(GRAPH) }
        em.decline(flow.userCode())
        val e = throws<ClientException> { app.acquireTokenByDeviceFlow(flow) }
        assertSame(ClientException::class.java, e.javaClass)
        assertEquals("authorization_declined", e.errorCode)
        assertEquals(ErrorKind.CANCELLED, e.info.kind)
    }

    @Test
    fun deviceCodeExpiredIsAServiceException() {
        val app = publicClient()
        val flow = runBlocking { app.initiateDeviceFlow(GRAPH) }
        em.preset("expired_token")
        val e = throws<ServiceException> { app.acquireTokenByDeviceFlow(flow) }
        assertEquals("expired_token", e.errorCode)
        assertFalse(e is InteractionRequiredException)
    }

    @Test
    fun cancellingTheCoroutineCancelsTheDevicePoll() = runBlocking {
        val app = publicClient()
        val flow = app.initiateDeviceFlow(GRAPH)
        val handle = CancelHandle()
        val job = async(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) { app.acquireTokenByDeviceFlow(flow, handle) }
        // Wait until the core is polling.
        val deadline = System.nanoTime() + 10_000_000_000
        while (em.deviceCode(flow.userCode()).optInt("polls") < 1) {
            check(System.nanoTime() < deadline) { "no poll: ${em.deviceCode(flow.userCode())}" }
            delay(20)
        }
        job.cancel()
        assertThrows<CancellationException> { runBlocking { job.await() } }
        assertTrue(handle.isCancelled(), "the coroutine's cancellation reached the CancelHandle")
        val polls = em.deviceCode(flow.userCode()).optInt("polls")
        delay(1_500)
        assertEquals(polls, em.deviceCode(flow.userCode()).optInt("polls"), "polling stopped")
    }

    @Test
    fun withTimeoutOnTheDevicePollIsACancellation() {
        val app = publicClient()
        val flow = runBlocking { app.initiateDeviceFlow(GRAPH) }
        val handle = CancelHandle()
        assertThrows<TimeoutCancellationException> {
            runBlocking { withTimeout(500) { app.acquireTokenByDeviceFlow(flow, handle) } }
        }
        assertTrue(handle.isCancelled())
    }

    @Test
    fun cancelHandleFromAnotherThreadIsUserCancelled() {
        val app = publicClient()
        val flow = runBlocking { app.initiateDeviceFlow(GRAPH) }
        val handle = CancelHandle()
        Thread {
            Thread.sleep(300)
            handle.cancel()
        }.start()
        val e = assertThrows<ClientException> { app.acquireTokenByDeviceFlowBlocking(flow, handle) }
        assertEquals("user_cancelled", e.errorCode)
        assertEquals(ErrorKind.CANCELLED, e.info.kind)
    }

    // ---- username/password and refresh ----

    @Test
    fun usernamePasswordThenRefreshSucceed() = runBlocking {
        val app = publicClient()
        val r = ropc(app)
        assertNotNull(r.refreshToken)
        val r2 = app.acquireTokenByRefreshToken(r.refreshToken!!, GRAPH)
        assertTrue(r2.accessToken.isNotEmpty())
        assertEquals(TokenSource.IDENTITY_PROVIDER, r2.tokenSource)
    }

    @Test
    fun usernamePasswordOnAConfidentialClientSendsItsSecret() = runBlocking {
        val app = confidential()
        val r = ropc(app)
        assertTrue(r.accessToken.isNotEmpty())
        val sent = em.requests().last { it.optString("grant_type") == "password" }
        assertEquals(CONFIDENTIAL_CLIENT, sent.getString("client_id"))
        assertTrue(sent.getJSONArray("param_names").toList().contains("client_secret"), "$sent")
        val blocking = app.acquireTokenByUsernamePasswordBlocking(USER, PASSWORD, GRAPH)
        assertTrue(blocking.accessToken.isNotEmpty())
    }

    @ParameterizedTest
    @CsvSource(
        "basic_action, BASIC_ACTION",
        "additional_action, ADDITIONAL_ACTION",
        "message_only, MESSAGE_ONLY",
        "consent_required, CONSENT_REQUIRED",
        "user_password_expired, USER_PASSWORD_EXPIRED",
        "bad_token, NONE",
        "classification_none, NONE",
    )
    fun refreshPresetsAreInteractionRequiredWithTheirReason(preset: String, reason: InteractionRequiredReason) {
        val app = publicClient()
        val rt = runBlocking { ropc(app) }.refreshToken!!
        em.preset(preset)
        val e = throws<InteractionRequiredException> { app.acquireTokenByRefreshToken(rt, GRAPH) }
        assertEquals(reason, e.reason)
        assertEquals("invalid_grant", e.errorCode)
        assertEquals(400, e.statusCode)
        assertEquals(RecommendedAction.AcquireInteractively::class, e.action::class)
    }

    @Test
    fun aServiceExceptionCatchAlsoCatchesInteractionRequired() {
        val app = publicClient()
        val rt = runBlocking { ropc(app) }.refreshToken!!
        em.preset("basic_action")
        try {
            app.acquireTokenByRefreshTokenBlocking(rt, GRAPH)
            fail("expected an exception")
        } catch (e: ServiceException) {
            assertInstanceOf(InteractionRequiredException::class.java, e)
        }
    }

    @Test
    fun clientMismatchIsAServiceExceptionNotInteractionRequired() {
        val app = publicClient()
        val rt = runBlocking { ropc(app) }.refreshToken!!
        em.preset("client_mismatch")
        val e = throws<ServiceException> { app.acquireTokenByRefreshToken(rt, GRAPH) }
        assertSame(ServiceException::class.java, e.javaClass)
        assertEquals("invalid_grant", e.errorCode)
    }

    @Test
    fun mfaOnUsernamePasswordIsInteractionRequiredWithClaims() {
        em.preset("mfa_required_50079")
        val e = throws<InteractionRequiredException> { ropc() }
        assertEquals("interaction_required", e.errorCode)
        assertEquals(InteractionRequiredReason.NONE, e.reason)
        assertNotNull(e.claims)
        assertTrue(e.errorCodes.contains(50079L))
    }

    @Test
    fun passwordResetIsInteractionRequired() {
        em.preset("password_reset_50142")
        val e = throws<InteractionRequiredException> { ropc() }
        assertEquals("invalid_request", e.errorCode)
    }

    @Test
    fun aPlainServiceRefusalIsAServiceException() {
        em.preset("public_client_70002")
        val e = throws<ServiceException> { ropc() }
        assertSame(ServiceException::class.java, e.javaClass)
        assertEquals("invalid_client", e.errorCode)
        assertTrue(e.errorCodes.contains(70002L))
        assertFalse(e.isRetryable)
    }

    // ---- 429 and 5xx (client-side throttling comes with the resilience work) ----

    @Test
    fun a429IsAServiceExceptionWithRetryAfter() {
        val app = confidential()
        em.preset("throttled_429", match = tokenMatch(CONFIDENTIAL_CLIENT))
        val e = throws<ServiceException> { app.acquireTokenForClient(APP_SCOPE) }
        assertSame(ServiceException::class.java, e.javaClass)
        assertEquals(429, e.statusCode)
        assertEquals(listOf("30"), e.headers()["Retry-After"])
        assertEquals(30_000L, e.retryAfterMs)
        assertTrue(e.isRetryable)
        assertEquals(RecommendedAction.RetryAfter::class, e.action::class)
    }

    @Test
    fun a503IsARetryableServiceException() {
        em.preset("service_unavailable_503", count = null, match = tokenMatch(CONFIDENTIAL_CLIENT))
        val e = throws<ServiceException> { confidential().acquireTokenForClient(APP_SCOPE) }
        assertEquals(503, e.statusCode)
        assertEquals(5_000L, e.retryAfterMs)
        assertTrue(e.isRetryable)
    }

    // ---- network ----

    @Test
    fun aClosedPortIsAClientExceptionCausedByConnectException() {
        val port = ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1")).use { it.localPort }
        val app = PublicClientApplication(PUBLIC_CLIENT, "http://127.0.0.1:$port/organizations")
        val e = throws<ClientException> { app.acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH) }
        assertInstanceOf(ConnectException::class.java, e.cause)
        assertEquals(ErrorKind.NETWORK, e.info.kind)
        assertEquals(RecommendedAction.CheckNetwork::class, e.action::class)
    }

    @Test
    fun aDroppedConnectionIsAClientExceptionCausedBySocketException() {
        val app = confidential()
        em.preset("dropped_connection", count = null, match = tokenMatch(CONFIDENTIAL_CLIENT))
        val e = throws<ClientException> { app.acquireTokenForClient(APP_SCOPE) }
        assertEquals("network_connection_lost", e.errorCode)
        assertInstanceOf(SocketException::class.java, e.cause)
    }

    // ---- misuse ----

    @Test
    fun misuseIsAClientException() {
        val bad = assertThrows<ClientException> { PublicClientApplication(PUBLIC_CLIENT, "not a url") }
        assertEquals(ErrorKind.CLIENT, bad.info.kind)
        val insecure = assertThrows<ClientException> { PublicClientApplication(PUBLIC_CLIENT, "http://login.example.com/common") }
        assertEquals("authority_uri_insecure", insecure.errorCode)
        val prompt =
            throws<ClientException> {
                publicClient().initiateAuthCodeFlow(GRAPH, "http://127.0.0.1/cb", AuthorizeOptions(prompt = "sometimes"))
            }
        assertEquals("invalid_parameter", prompt.errorCode)
        assertEquals(RecommendedAction.FixConfiguration::class, prompt.action::class)
    }

    // ---- auth code ----

    private fun location(url: String): String {
        val r = Servers.http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.discarding())
        assertTrue(r.statusCode() in 300..399, "redirect expected, got ${r.statusCode()}")
        return r.headers().firstValue("location").orElseThrow()
    }

    @Test
    fun authCodeFlowSucceedsAndAWrongStateIsAClientException() = runBlocking {
        val app = publicClient()
        val flow = app.initiateAuthCodeFlow(GRAPH, "http://127.0.0.1:8765/cb")
        val redirect = location(flow.authUri())
        assertTrue(redirect.startsWith("http://127.0.0.1:8765/cb"), redirect)
        val r = app.acquireTokenByAuthCodeFlow(flow, redirect)
        assertEquals(USER, r.account?.username)

        val flow2 = app.initiateAuthCodeFlow(GRAPH, "http://127.0.0.1:8765/cb")
        val forged = location(flow2.authUri()).replace(flow2.state(), "forged")
        val e = throws<ClientException> { app.acquireTokenByAuthCodeFlow(flow2, forged) }
        assertEquals("state_mismatch", e.errorCode)
    }

    @Test
    fun promptNoneWithoutSessionIsPromptNeverFailed() {
        val app = publicClient()
        em.preset("prompt_never_failed")
        val flow = runBlocking { app.initiateAuthCodeFlow(GRAPH, "http://127.0.0.1/cb", AuthorizeOptions(prompt = "none")) }
        val redirect = location(flow.authUri())
        val e = throws<InteractionRequiredException> { app.acquireTokenByAuthCodeFlow(flow, redirect) }
        assertEquals("login_required", e.errorCode)
        assertEquals(InteractionRequiredReason.PROMPT_NEVER_FAILED, e.reason)
    }

    @Test
    fun userDeclinedConsentIsAClientExceptionOfTheCancelledKind() {
        val app = publicClient()
        em.preset("user_declined_consent")
        val flow = runBlocking { app.initiateAuthCodeFlow(GRAPH, "http://127.0.0.1/cb") }
        val e = throws<ClientException> { app.acquireTokenByAuthCodeFlow(flow, location(flow.authUri())) }
        assertEquals("access_denied", e.errorCode)
        assertEquals(ErrorKind.CANCELLED, e.info.kind)
    }

    @Test
    fun confidentialAuthCodeFlowSucceeds() = runBlocking {
        val app = confidential()
        val flow = app.initiateAuthCodeFlow(GRAPH, "http://localhost/auth")
        val r = app.acquireTokenByAuthCodeFlow(flow, location(flow.authUri()))
        assertTrue(r.accessToken.isNotEmpty())
    }

    // ---- interactive ----

    /** A "browser" that follows the sign-in page's redirects to the loopback listener. */
    private val browser: UrlOpener =
        urlOpener { url ->
            HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()
                .sendAsync(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.discarding())
        }

    @Test
    fun interactiveSucceedsThroughTheLoopback() = runBlocking {
        val r =
            publicClient().acquireTokenInteractive(
                GRAPH,
                InteractiveOptions(redirectHost = "127.0.0.1", timeoutSecs = 20uL),
                browser,
            )
        assertEquals(USER, r.account?.username)
    }

    @Test
    fun interactiveConsentRequiredOnRedemptionIsInteractionRequired() {
        em.preset("consent_required_65001", match = tokenMatch(PUBLIC_CLIENT, "authorization_code"))
        val e =
            throws<InteractionRequiredException> {
                publicClient().acquireTokenInteractive(GRAPH, InteractiveOptions(redirectHost = "127.0.0.1", timeoutSecs = 20uL), browser)
            }
        assertEquals(InteractionRequiredReason.CONSENT_REQUIRED, e.reason)
    }

    @Test
    fun cancellingAnInteractiveSignInIsACancellation() {
        val handle = CancelHandle()
        val nowhere = urlOpener { }
        assertThrows<TimeoutCancellationException> {
            runBlocking {
                withTimeout(500) {
                    publicClient().acquireTokenInteractive(GRAPH, InteractiveOptions(redirectHost = "127.0.0.1"), nowhere, handle)
                }
            }
        }
        assertTrue(handle.isCancelled())
    }

    @Test
    fun anOpenerThatFailsIsAClientException() {
        val broken = urlOpener { throw IllegalStateException("no browser here") }
        val e =
            throws<ClientException> {
                publicClient().acquireTokenInteractive(GRAPH, InteractiveOptions(redirectHost = "127.0.0.1", timeoutSecs = 5uL), broken)
            }
        assertEquals("authentication_ui_failed", e.errorCode)
    }

    // ---- confidential ----

    @Test
    fun clientCredentialsWithSecretBasicAndCertificate() = runBlocking {
        assertTrue(confidential().acquireTokenForClient(APP_SCOPE).accessToken.isNotEmpty())
        assertTrue(confidential(ClientCredential.SecretBasic(SECRET)).acquireTokenForClient(APP_SCOPE).accessToken.isNotEmpty())
        val cert = em.createCertificate(CONFIDENTIAL_CLIENT)
        val c = ClientCredential.Certificate(cert.getString("certificate_pem"), cert.getString("private_key_pem"), true)
        assertTrue(confidential(c).acquireTokenForClient(APP_SCOPE).accessToken.isNotEmpty())
        val basic = em.requests().filter { it.optString("grant_type") == "client_credentials" }.map { it.optBoolean("basic_auth") }
        assertEquals(listOf(false, true, false), basic)
    }

    @Test
    fun wrongSecretIsAServiceExceptionInvalidClient() {
        val e = throws<ServiceException> { confidential(ClientCredential.Secret("wrong")).acquireTokenForClient(APP_SCOPE) }
        assertSame(ServiceException::class.java, e.javaClass)
        assertEquals("invalid_client", e.errorCode)
        assertEquals(401, e.statusCode)
    }

    @Test
    fun clientCredentialsOnOrganizationsIsAServiceException() {
        val app = ConfidentialClientApplication(CONFIDENTIAL_CLIENT, em.authority("organizations"), ClientCredential.Secret(SECRET))
        val e = throws<ServiceException> { app.acquireTokenForClient(APP_SCOPE) }
        assertTrue(e.errorCodes.contains(9001023L), "codes ${e.errorCodes}")
    }

    @Test
    fun onBehalfOfSucceedsAndAnUnknownAssertionFails() = runBlocking {
        val user = publicClient().acquireTokenByUsernamePassword(USER, PASSWORD, OBO_SCOPE)
        val r = confidential().acquireTokenOnBehalfOf(user.accessToken, GRAPH)
        assertTrue(r.accessToken.isNotEmpty())
        val e = throws<IdFlowException> { confidential().acquireTokenOnBehalfOf("not.a.token", GRAPH) }
        assertTrue(e is ServiceException, "got $e")
        assertTrue((e as ServiceException).errorCodes.contains(50013L), "codes ${e.errorCodes}")
    }

    @Test
    fun onBehalfOfInteractionRequiredReachesTheCaller() {
        val user = runBlocking { publicClient().acquireTokenByUsernamePassword(USER, PASSWORD, OBO_SCOPE) }
        em.preset("device_not_compliant_53000", match = tokenMatch(CONFIDENTIAL_CLIENT))
        val e = throws<InteractionRequiredException> { confidential().acquireTokenOnBehalfOf(user.accessToken, GRAPH) }
        assertEquals(InteractionRequiredReason.ADDITIONAL_ACTION, e.reason)
        assertNotNull(e.claims)
    }
}
