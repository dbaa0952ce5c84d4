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
import dev.idflow.ffi.HttpClientException
import java.io.File
import java.io.IOException
import java.net.SocketTimeoutException
import java.util.concurrent.atomic.AtomicInteger
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.RequestBody.Companion.toRequestBody
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** An app's OkHttp client as idflow's transport (what an Android app passes). */
class OkHttpAdapter(private val client: OkHttpClient) : HttpClient {
    val calls = AtomicInteger()

    override fun send(request: HttpClientRequest): HttpClientResponse {
        calls.incrementAndGet()
        val builder = Request.Builder().url(request.url())
        for (h in request.headers()) builder.header(h.name, h.value)
        if (request.method() == "POST") builder.post(request.body().toRequestBody()) else builder.get()
        try {
            client.newCall(builder.build()).execute().use { r ->
                val headers = r.headers.map { (n, v) -> Header(n, v) }
                return HttpClientResponse(r.code.toUShort(), headers, r.body?.bytes() ?: ByteArray(0))
            }
        } catch (e: IOException) {
            throw httpClientFailure(e)
        }
    }
}

/**
 * The app's own HTTP stack (java.net.http and OkHttp) carrying every flow,
 * and the `proxies` option through a real forward proxy (tinyproxy, started by
 * scripts/with-servers.sh, whose log counts what it forwards).
 */
class HttpTest {
    private val em: Emulator by lazy { Servers.emulator() }

    @BeforeEach
    fun reset() {
        em.reset()
        em.request("PATCH", "/_admin/settings", JSONObject().put("device_code_interval_secs", 0))
        em.request("DELETE", "/_admin/requests")
    }

    private fun everyFlow(config: (String, String) -> AppConfig) {
        ConfidentialClientApplication(config(CONFIDENTIAL_CLIENT, em.authority(TENANT)), ClientCredential.Secret(SECRET)).use {
            assertTrue(it.acquireTokenForClientBlocking(APP_SCOPE).accessToken.isNotEmpty())
        }
        PublicClientApplication(config(PUBLIC_CLIENT, em.authority())).use { app ->
            val ropc = app.acquireTokenByUsernamePasswordBlocking(USER, PASSWORD, GRAPH)
            assertTrue(app.acquireTokenByRefreshTokenBlocking(ropc.refreshToken!!, GRAPH).accessToken.isNotEmpty())
            val flow = app.initiateDeviceFlowBlocking(GRAPH)
            em.approve(flow.userCode())
            assertTrue(app.acquireTokenByDeviceFlowBlocking(flow).accessToken.isNotEmpty())
        }
    }

    /** Requests the app sent (the emulator's log, without its admin API). */
    private fun served() = em.requests().count { it.optString("endpoint") != "authorize" }

    @Test
    fun `java net http client carries every flow`() {
        val calls = AtomicInteger()
        val jdk = JavaNetHttpClient()
        val counting = object : HttpClient {
            override fun send(request: HttpClientRequest): HttpClientResponse {
                calls.incrementAndGet()
                return jdk.send(request)
            }
        }
        everyFlow { id, authority -> AppConfig(clientId = id, authority = authority, httpClient = counting) }
        assertTrue(served() >= 6)
        assertEquals(served(), calls.get())
    }

    @Test
    fun `the client's thread stays attached to the JVM after its request`() {
        // The core calls the client on a thread of its own, which JNA attaches to the JVM for
        // the call. Detached after it, that java.lang.Thread would end with each request (and
        // the next request would attach another): kept attached, it is still alive.
        val threads = mutableListOf<Thread>()
        val jdk = JavaNetHttpClient()
        val recording = object : HttpClient {
            override fun send(request: HttpClientRequest): HttpClientResponse {
                synchronized(threads) { threads += Thread.currentThread() }
                return jdk.send(request)
            }
        }
        val config = AppConfig(clientId = CONFIDENTIAL_CLIENT, authority = em.authority(TENANT), httpClient = recording)
        ConfidentialClientApplication(config, ClientCredential.Secret(SECRET)).use { app ->
            assertTrue(app.acquireTokenForClientBlocking(APP_SCOPE).accessToken.isNotEmpty())
            app.tokenCache.restore("")
            assertTrue(app.acquireTokenForClientBlocking(APP_SCOPE).accessToken.isNotEmpty())
        }
        val seen = synchronized(threads) { threads.toList() }
        assertTrue(seen.size >= 2, "requests: ${seen.size}")
        for (t in seen) assertTrue(t.isAlive, "${t.name} ended with its request")
    }

    @Test
    fun `the threads that resume suspended calls stay attached to the JVM`() {
        // idflow's own transport: the call is resumed from the core's I/O thread, a native
        // thread JNA attaches for the callback (and without the initializer detached after it,
        // under a name of JNA's own).
        val config = AppConfig(clientId = CONFIDENTIAL_CLIENT, authority = em.authority(TENANT))
        ConfidentialClientApplication(config, ClientCredential.Secret(SECRET)).use { app ->
            assertTrue(app.acquireTokenForClientBlocking(APP_SCOPE).accessToken.isNotEmpty())
        }
        val named = Thread.getAllStackTraces().keys.filter { it.name == NativeThreads.THREAD_NAME }
        assertTrue(named.isNotEmpty(), "no live thread named ${NativeThreads.THREAD_NAME}")
        for (t in named) assertTrue(t.isDaemon, "${t.name} would keep the JVM from exiting")
    }

    @Test
    fun `okhttp client carries every flow`() {
        val adapter = OkHttpAdapter(OkHttpClient.Builder().followRedirects(false).build())
        everyFlow { id, authority -> AppConfig(clientId = id, authority = authority, httpClient = adapter) }
        assertEquals(served(), adapter.calls.get())
    }

    @Test
    fun `a throwing client is a network ClientException without the secret`() {
        val failing = object : HttpClient {
            override fun send(request: HttpClientRequest): HttpClientResponse =
                throw httpClientFailure(SocketTimeoutException("read timed out after sending ${String(request.body())}"))
        }
        val config = AppConfig(clientId = CONFIDENTIAL_CLIENT, authority = em.authority(TENANT), httpClient = failing)
        val e = assertThrows<ClientException> {
            ConfidentialClientApplication(config, ClientCredential.Secret(SECRET)).use { it.acquireTokenForClientBlocking(APP_SCOPE) }
        }
        assertEquals(ErrorKind.NETWORK, e.info.kind)
        assertInstanceOf(SocketTimeoutException::class.java, e.cause)
        assertFalse(e.toString().contains(SECRET) || e.message.orEmpty().contains(SECRET), e.toString())

        val unexpected = object : HttpClient {
            override fun send(request: HttpClientRequest): HttpClientResponse = throw IllegalStateException("bug")
        }
        val e2 = assertThrows<ClientException> {
            ConfidentialClientApplication(config.copy(httpClient = unexpected), ClientCredential.Secret(SECRET))
                .use { it.acquireTokenForClientBlocking(APP_SCOPE) }
        }
        assertEquals(ErrorKind.NETWORK, e2.info.kind)
    }

    @Test
    fun `proxies send every flow through the forward proxy`() {
        val info = JSONObject(System.getenv("IDFLOW_PROXY_INFO") ?: error("IDFLOW_PROXY_INFO unset: run scripts/test-kotlin.sh"))
        val log = File(info.getString("log"))
        val pattern = Regex("Request \\(file descriptor \\d+\\): (GET|POST) " + Regex.escape(em.base) + "/(?!_admin)")
        fun forwarded() = log.readLines().count { pattern.containsMatchIn(it) }
        val before = forwarded()
        everyFlow { id, authority ->
            AppConfig(clientId = id, authority = authority, proxies = mapOf("http" to info.getString("url")))
        }
        val served = served()
        assertTrue(served >= 6)
        assertEquals(served, forwarded() - before)

        val bypass = forwarded()
        everyFlow { id, authority ->
            AppConfig(
                clientId = id, authority = authority,
                proxies = mapOf("http" to info.getString("url"), "no_proxy" to "127.0.0.1"),
            )
        }
        assertEquals(bypass, forwarded())
    }
}
