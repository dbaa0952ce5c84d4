package dev.idflow

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.fail
import java.net.CookieManager
import java.net.CookiePolicy
import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit

/**
 * The user-facing flows against node-oidc-provider's own pages (login,
 * consent, `/device`), driven over plain HTTP with a cookie jar, as a browser
 * without script would: auth code + PKCE then refresh, and device code
 * approved while the poll runs.
 */
class OidcPagesTest {
    private lateinit var issuer: String
    private lateinit var clientId: String
    private lateinit var apiRead: List<String>

    @BeforeEach
    fun setUp() {
        val info = Servers.oidc()
        issuer = info.getString("issuer").trimEnd('/')
        clientId = info.getJSONObject("clients").getJSONObject("native").getString("client_id")
        assertEquals("idflow-native", clientId)
        apiRead = listOf(info.getJSONObject("api").getString("resource") + "/read")
    }

    private fun app() = PublicClientApplication(AppConfig(clientId = clientId, authority = issuer, oidcAuthority = true))

    /** The `sub` the provider put in the id token, and the account built from it. */
    private fun assertSignedInAs(login: String, r: TokenResult) {
        assertTrue(r.accessToken.isNotEmpty())
        val claims = JSONObject(Vectors.present(r.idTokenClaimsJson, "id token claims"))
        val sub = claims.getString("sub")
        assertEquals(login, sub, "devInteractions makes the login the sub")
        val account = Vectors.present(r.account, "account")
        assertEquals(sub, account.homeAccountId, "homeAccountId for a non-Microsoft authority is the sub")
        assertEquals(TokenSource.IDENTITY_PROVIDER, r.tokenSource)
    }

    @Test
    fun authCodeWithPkceThroughLoginAndConsentThenRefresh() = runBlocking {
        val app = app()
        val flow = app.initiateAuthCodeFlow(apiRead, "http://127.0.0.1/callback", AuthorizeOptions(prompt = "consent"))
        val authUri = URI.create(flow.authUri())
        assertTrue(flow.authUri().startsWith(issuer), flow.authUri())
        val query = authUri.rawQuery
        assertTrue(query.contains("code_challenge=") && query.contains("code_challenge_method=S256"), "PKCE: $query")

        val redirect = withContext(Dispatchers.IO) { Browser(issuer, "ada-pages").authorize(flow.authUri()) }
        assertTrue(redirect.startsWith("http://127.0.0.1/callback?"), redirect)
        assertTrue(redirect.contains("code="), redirect)

        val r = app.acquireTokenByAuthCodeFlow(flow, redirect)
        assertSignedInAs("ada-pages", r)
        val rt = Vectors.present(r.refreshToken, "prompt=consent issues a refresh token")

        val r2 = app.acquireTokenByRefreshTokenBlocking(rt, apiRead)
        assertTrue(r2.accessToken.isNotEmpty())
        assertNotEquals(r.accessToken, r2.accessToken)
        assertEquals(TokenSource.IDENTITY_PROVIDER, r2.tokenSource)
        assertEquals("ada-pages", Vectors.present(r2.account, "account after refresh").homeAccountId)
        // Public clients' refresh tokens rotate on every use.
        val rotated = Vectors.present(r2.refreshToken, "refresh returns a new refresh token")
        assertNotEquals(rt, rotated)
    }

    @Test
    fun deviceCodeApprovedOnTheDevicePagesWhileTheBlockingPollRuns() {
        val app = app()
        val flow = app.initiateDeviceFlowBlocking(apiRead)
        assertTrue(flow.verificationUri().startsWith(issuer), flow.verificationUri())
        assertTrue(flow.message().contains(flow.userCode()))
        val poll = CompletableFuture.supplyAsync { app.acquireTokenByDeviceFlowBlocking(flow) }
        // Let the poll start (pending answers) before the user approves.
        Thread.sleep(300)
        assertTrue(!poll.isDone, "the poll ended before approval: ${runCatching { poll.getNow(null) }}")
        val page = Browser(issuer, "bob-device").approveDevice(flow.userCode())
        assertTrue(page.contains("Sign-in Success", ignoreCase = true), "final page: ${title(page)}")
        val r = poll.get(20, TimeUnit.SECONDS)
        assertSignedInAs("bob-device", r)
    }

    @Test
    fun deviceCodeApprovedOnTheDevicePagesWhileTheSuspendPollRuns() = runBlocking {
        val app = app()
        val flow = app.initiateDeviceFlow(apiRead)
        val poll = async(Dispatchers.Default) { app.acquireTokenByDeviceFlow(flow) }
        val page = withContext(Dispatchers.IO) { Browser(issuer, "carol-device").approveDevice(flow.userCode()) }
        assertTrue(page.contains("Sign-in Success", ignoreCase = true), "final page: ${title(page)}")
        val r = withTimeout(20_000) { poll.await() }
        assertSignedInAs("carol-device", r)
    }

    private fun title(html: String): String? = Regex("<title>(.*?)</title>", RegexOption.DOT_MATCHES_ALL).find(html)?.groupValues?.get(1)?.trim()

    /**
     * One user's browser for the provider's server-rendered pages: a cookie
     * jar, no automatic redirects; fills the login form with [login] (any
     * password) and submits the consent form as shown.
     */
    private class Browser(private val issuer: String, private val login: String) {
        private val http: HttpClient =
            HttpClient.newBuilder()
                .cookieHandler(CookieManager(null, CookiePolicy.ACCEPT_ALL))
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(5))
                .build()

        private fun inside(uri: URI): Boolean = uri.toString().let { it == issuer || it.startsWith("$issuer/") }

        private fun get(uri: URI): HttpResponse<String> =
            http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString())

        private fun post(uri: URI, fields: List<Pair<String, String>>): HttpResponse<String> {
            val body = fields.joinToString("&") { (k, v) -> enc(k) + "=" + enc(v) }
            val req =
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build()
            return http.send(req, HttpResponse.BodyHandlers.ofString())
        }

        /** Opens the authorize URL and signs in; returns the redirect that leaves the provider. */
        fun authorize(url: String): String =
            when (val end = drive(get(URI.create(url)))) {
                is Ended.Left -> end.uri.toString()
                is Ended.Page -> fail("authorize ended on a page: HTTP ${end.status} ${end.uri}\n${end.html.take(600)}")
            }

        /** Types [userCode] at `/device`, confirms, signs in and consents; returns the final page. */
        fun approveDevice(userCode: String): String {
            val entry = get(URI.create("$issuer/device"))
            assertEquals(200, entry.statusCode(), "GET /device")
            val (action, fields) = form(entry.uri(), entry.body()) ?: fail("the /device page has no form")
            assertTrue(fields.any { it.first == "user_code" }, "no user_code field: $fields")
            val typed = fields.map { if (it.first == "user_code") it.first to userCode else it }
            val confirm = post(action, typed)
            val (confirmAction, confirmFields) =
                form(confirm.uri(), confirm.body())?.takeIf { f -> f.second.any { it.first == "confirm" } }
                    ?: fail("user code $userCode was not accepted: HTTP ${confirm.statusCode()}\n${confirm.body().take(600)}")
            return when (val end = drive(post(confirmAction, confirmFields))) {
                is Ended.Page -> end.html
                is Ended.Left -> fail("device approval left the provider for ${end.uri}")
            }
        }

        private sealed interface Ended {
            data class Left(val uri: URI) : Ended

            data class Page(val uri: URI, val status: Int, val html: String) : Ended
        }

        /** Follows redirects inside the provider and fills login and consent forms. */
        private fun drive(first: HttpResponse<String>): Ended {
            var resp = first
            repeat(MAX_STEPS) {
                if (resp.statusCode() in 300..399) {
                    val location = resp.headers().firstValue("location").orElseThrow { AssertionError("a redirect without Location") }
                    val next = resp.uri().resolve(location)
                    if (!inside(next)) return Ended.Left(next)
                    resp = get(next)
                    return@repeat
                }
                val html = resp.body()
                val (action, fields) = form(resp.uri(), html) ?: return Ended.Page(resp.uri(), resp.statusCode(), html)
                val filled =
                    when (fields.firstOrNull { it.first == "prompt" }?.second) {
                        "login" ->
                            fields.map { (k, v) ->
                                when (k) {
                                    "login" -> k to login
                                    "password" -> k to "any-password"
                                    else -> k to v
                                }
                            }
                        "consent" -> fields
                        else -> return Ended.Page(resp.uri(), resp.statusCode(), html)
                    }
                resp = post(action, filled)
            }
            fail("no end after $MAX_STEPS redirects and form posts")
        }

        companion object {
            /** A full login + consent takes six steps; more means the provider is looping. */
            const val MAX_STEPS = 16

            private fun enc(s: String) = URLEncoder.encode(s, Charsets.UTF_8)

            /** The first form on the page: its absolute action and its named inputs. */
            fun form(base: URI, html: String): Pair<URI, List<Pair<String, String>>>? {
                val start = html.indexOf("<form").takeIf { it >= 0 } ?: return null
                val end = html.indexOf("</form>", start).let { if (it < 0) html.length else it }
                val form = html.substring(start, end)
                val openEnd = form.indexOf('>')
                val action = attr(form.substring(0, openEnd), "action") ?: return null
                val fields =
                    Regex("<input\\b[^>]*>", RegexOption.IGNORE_CASE).findAll(form.substring(openEnd)).mapNotNull { m ->
                        attr(m.value, "name")?.let { it to (attr(m.value, "value") ?: "") }
                    }.toList()
                return base.resolve(action) to fields
            }

            private fun attr(tag: String, name: String): String? =
                Regex("\\s$name=\"([^\"]*)\"").find(tag.replace(Regex("[\\r\\n\\t]"), " "))?.groupValues?.get(1)?.let(::unescape)

            private fun unescape(s: String): String =
                s.replace("&quot;", "\"").replace("&#39;", "'").replace("&#x27;", "'")
                    .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        }
    }
}
