package dev.idflow

import dev.idflow.Emulator.Companion.APP_SCOPE
import dev.idflow.Emulator.Companion.CONFIDENTIAL_CLIENT
import dev.idflow.Emulator.Companion.SECRET
import dev.idflow.Emulator.Companion.TENANT
import dev.idflow.ffi.AzureRegion
import dev.idflow.ffi.ClientCredential
import java.net.URI
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.Collections
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * MSAL for Java's region and app identity settings on the builder, against
 * the emulator: the app's own HTTP client sends the public cloud's hosts, the
 * regional hosts and the VM metadata address to the emulator and records
 * every URL the app asked for.
 */
class RegionTest {
    private lateinit var em: Emulator

    @BeforeEach
    fun setUp() {
        em = Servers.emulator()
        em.reset()
    }

    /** Records each request (URL and headers) and sends it to the emulator. */
    private inner class ToEmulator : HttpClient {
        val sent: MutableList<Pair<String, Map<String, String>>> = Collections.synchronizedList(mutableListOf())

        override fun send(request: HttpClientRequest): HttpClientResponse {
            val url = request.url()
            val headers = request.headers().associate { it.name.lowercase() to it.value }
            sent += url to headers
            val uri = URI.create(url)
            val target = URI.create(em.base + uri.rawPath + (uri.rawQuery?.let { "?$it" } ?: ""))
            val builder = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(10))
            for (h in request.headers()) builder.header(h.name, h.value)
            if (request.method() == "POST") {
                builder.POST(HttpRequest.BodyPublishers.ofByteArray(request.body()))
            } else {
                builder.GET()
            }
            val response = Servers.http.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray())
            val answer = response.headers().map().flatMap { (n, vs) -> vs.map { Header(n, it) } }
            return HttpClientResponse(response.statusCode().toUShort(), answer, response.body())
        }

        fun posts() = sent.filter { (url, _) -> !url.contains("169.254.169.254") && url.endsWith("/token") }
    }

    private fun builder() = ConfidentialClientApplication.builder(CONFIDENTIAL_CLIENT, ClientCredential.Secret(SECRET))
        .authority("https://login.microsoftonline.com/$TENANT")

    private fun run(builder: ConfidentialClientApplicationBuilder): ToEmulator {
        val http = ToEmulator()
        ConfidentialClientApplication(builder.config.copy(httpClient = http), ClientCredential.Secret(SECRET)).use {
            assertTrue(it.acquireTokenForClientBlocking(APP_SCOPE).accessToken.isNotEmpty())
        }
        return http
    }

    @Test
    fun `a named region sends client credentials to the regional host with the app's name`() {
        val http = run(builder().azureRegion("westus2").applicationName("svc").applicationVersion("1.0"))
        val (url, headers) = http.posts().single()
        assertEquals("https://westus2.login.microsoft.com/$TENANT/oauth2/v2.0/token", url)
        assertEquals("svc", headers["x-app-name"])
        assertEquals("1.0", headers["x-app-ver"])
        // A named region needs no detection.
        assertTrue(http.sent.none { it.first.contains("169.254.169.254") })
    }

    @Test
    fun `detection without an answer falls back to the global endpoint`() {
        // The emulator serves no compute metadata: IMDS answers 404.
        val http = run(builder().autoDetectRegion(true))
        assertEquals(
            "http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01",
            http.sent.first().first,
        )
        assertEquals("true", http.sent.first().second["metadata"])
        assertEquals("https://login.microsoftonline.com/$TENANT/oauth2/v2.0/token", http.posts().single().first)
    }

    @Test
    fun `a named region wins over detection, as in msal4j`() {
        assertEquals(AzureRegion.Named("eastus"), builder().azureRegion("eastus").autoDetectRegion(true).config.azureRegion)
        assertEquals(AzureRegion.AutoDetect, builder().autoDetectRegion(true).config.azureRegion)
        assertEquals(null, builder().autoDetectRegion(true).autoDetectRegion(false).config.azureRegion)
    }

    @Test
    fun `an invalid region is a ClientException at build`() {
        assertThrows<ClientException> { builder().azureRegion("West US").build() }
    }
}
