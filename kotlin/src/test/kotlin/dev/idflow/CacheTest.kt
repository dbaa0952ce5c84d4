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
import java.io.File
import java.net.ServerSocket
import java.util.concurrent.atomic.AtomicReference
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/** The token cache and silent acquisition through the idiomatic layer, against the emulator. */
class CacheTest {
    private lateinit var em: Emulator

    @BeforeEach
    fun setUp() {
        em = Servers.emulator()
        em.reset()
    }

    private fun config(cache: TokenCache?, authority: String = em.authority(TENANT)) =
        AppConfig(clientId = PUBLIC_CLIENT, authority = authority, tokenCache = cache)

    private fun tokenRequests() = em.requests().filter { it.optString("endpoint") == "token" }

    private fun clearLog() {
        em.request("DELETE", "/_admin/requests")
    }

    private fun closedPortAuthority(): String {
        val port = ServerSocket(0).use { it.localPort }
        return "http://127.0.0.1:$port/$TENANT"
    }

    @Test
    fun aCachedTokenComesBackWithoutARequest() = runBlocking {
        val app = PublicClientApplication(config(null))
        val first = app.acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH)
        val account = app.getAccounts().single()
        assertEquals(USER, account.username)
        clearLog()
        val hit = app.acquireTokenSilent(GRAPH, account)
        assertEquals(TokenSource.CACHE, hit.tokenSource)
        assertEquals(first.accessToken, hit.accessToken)
        assertTrue(em.requests().isEmpty(), "no request at all")

        val forced = app.acquireTokenSilentBlocking(GRAPH, account, forceRefresh = true)
        assertEquals(TokenSource.IDENTITY_PROVIDER, forced.tokenSource)
        assertNotEquals(first.accessToken, forced.accessToken)
        assertEquals("refresh_token", tokenRequests().single().optString("grant_type"))
    }

    @Test
    fun nothingUsableIsInteractionRequiredAcquireTokenSilentFailed() {
        val app = PublicClientApplication(config(null))
        val noAccount = assertThrows<InteractionRequiredException> {
            app.acquireTokenSilentBlocking(GRAPH, null)
        }
        assertEquals("no_account", noAccount.errorCode)
        assertEquals(InteractionRequiredReason.ACQUIRE_TOKEN_SILENT_FAILED, noAccount.reason)
        val stranger = AccountInfo("uid.utid", "127.0.0.1", "utid", "x@example.com", "uid")
        val noTokens = assertThrows<InteractionRequiredException> {
            app.acquireTokenSilentBlocking(GRAPH, stranger)
        }
        assertEquals("no_tokens_found", noTokens.errorCode)
        assertTrue(em.requests().isEmpty())
    }

    @Test
    fun aRefusedRefreshIsTheServersInteractionRequired() = runBlocking {
        em.request("PATCH", "/_admin/settings", org.json.JSONObject().put("access_token_lifetime_secs", 200))
        val app = PublicClientApplication(config(null))
        app.acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH)
        em.preset("basic_action")
        val e = assertThrows<InteractionRequiredException> {
            app.acquireTokenSilentBlocking(GRAPH, app.getAccounts().single())
        }
        assertEquals("invalid_grant", e.errorCode)
        assertEquals(InteractionRequiredReason.BASIC_ACTION, e.reason)
    }

    @Test
    fun accountsAreFilteredAndRemoved() = runBlocking {
        val app = PublicClientApplication(config(null))
        app.acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH)
        assertEquals(1, app.getAccounts(USER.uppercase()).size)
        assertTrue(app.getAccounts("nobody@example.com").isEmpty())
        app.removeAccount(app.getAccounts().single())
        assertTrue(app.getAccounts().isEmpty())
        assertEquals(0UL, app.tokenCache.counts().accessTokens)
    }

    @Test
    fun clientCredentialsAnswerFromTheCache() = runBlocking {
        val app = ConfidentialClientApplication(CONFIDENTIAL_CLIENT, em.authority(TENANT), ClientCredential.Secret(SECRET))
        val first = app.acquireTokenForClient(APP_SCOPE)
        val again = app.acquireTokenForClientBlocking(APP_SCOPE)
        assertEquals(TokenSource.CACHE, again.tokenSource)
        assertEquals(first.accessToken, again.accessToken)
        assertEquals(1, tokenRequests().size)
    }

    @Test
    fun aSerializedCacheServesAnotherClientOffline() = runBlocking {
        val cache = TokenCache()
        val first = PublicClientApplication(config(cache)).acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH)
        assertTrue(cache.hasStateChanged())
        val state = cache.serialize()
        assertTrue(!cache.hasStateChanged())

        val loaded = TokenCache()
        loaded.restore(state)
        val offline = PublicClientApplication(config(loaded, closedPortAuthority()))
        val hit = offline.acquireTokenSilent(GRAPH, offline.getAccounts().single())
        assertEquals(first.accessToken, hit.accessToken)
        val bad = assertThrows<ClientException> { loaded.restore("not a cache") }
        assertEquals("invalid_cache_format", bad.errorCode)
        assertEquals(1, offline.getAccounts().size, "a failed restore changes nothing")
    }

    @Test
    fun aCacheRestoresFromBytesAndBadBytesAreIdFlowExceptions() = runBlocking {
        val cache = TokenCache()
        val first = PublicClientApplication(config(cache)).acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH)
        val loaded = TokenCache()
        val bytes = cache.serialize().toByteArray(Charsets.UTF_8)
        val direct = java.nio.ByteBuffer.allocateDirect(bytes.size).put(bytes)
        direct.flip()
        loaded.restore(direct)
        assertEquals(1, loaded.counts().accounts.toInt(), "a direct buffer, read in place")
        loaded.restore(bytes)
        val offline = PublicClientApplication(config(loaded, closedPortAuthority()))
        assertEquals(first.accessToken, offline.acquireTokenSilent(GRAPH, offline.getAccounts().single()).accessToken)
        for (bad in listOf("not a cache".toByteArray(), byteArrayOf(0x7b, 0xff.toByte(), 0x7d))) {
            val e = assertThrows<ClientException> { loaded.restore(bad) }
            assertEquals("invalid_cache_format", e.errorCode)
        }
        assertEquals(1, offline.getAccounts().size, "a failed restore changes nothing")
    }

    /**
     * The hit path answers from a prepared native lookup: the same token as
     * the full call, a new one once the cache holds another, and the full
     * call again (with its error) once nothing usable is cached.
     */
    @Test
    fun repeatedHitsFollowTheCache() = runBlocking {
        val app = PublicClientApplication(config(null))
        val first = app.acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH)
        val account = app.getAccounts().single()
        clearLog()
        repeat(3) {
            val hit = app.acquireTokenSilentBlocking(GRAPH, account)
            assertEquals(first.accessToken, hit.accessToken)
            assertEquals(TokenSource.CACHE, hit.tokenSource)
        }
        val forced = app.acquireTokenSilent(GRAPH, account, forceRefresh = true)
        assertEquals(forced.accessToken, app.acquireTokenSilent(GRAPH, account).accessToken, "the newer token")
        app.removeAccount(account)
        val e = assertThrows<InteractionRequiredException> { app.acquireTokenSilentBlocking(GRAPH, account) }
        assertEquals("no_tokens_found", e.errorCode)

        val cca = ConfidentialClientApplication(CONFIDENTIAL_CLIENT, em.authority(TENANT), ClientCredential.Secret(SECRET))
        val appToken = cca.acquireTokenForClient(APP_SCOPE)
        repeat(3) { assertEquals(appToken.accessToken, cca.acquireTokenForClientBlocking(APP_SCOPE).accessToken) }
        cca.tokenCache.restore("{}")
        assertNotEquals(appToken.accessToken, cca.acquireTokenForClient(APP_SCOPE).accessToken, "a miss asks again")
    }

    @Test
    fun storageFromLambdasAndFilesPersistTheCache(@TempDir dir: File) = runBlocking {
        val stored = AtomicReference<ByteArray?>(null)
        val storage = cacheStorage(LoadBytes { stored.get() }, SaveBytes { stored.set(it) })
        val cache = TokenCache()
        cache.persistIn(storage)
        val file = File(dir, "cache.json")
        val fileCache = TokenCache()
        fileCache.persistIn(file)
        val first = PublicClientApplication(config(cache)).acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH)
        PublicClientApplication(config(fileCache)).acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH)
        assertTrue(stored.get() != null && file.exists())

        val reloaded = TokenCache()
        reloaded.persistIn(cacheStorage(LoadBytes { stored.get() }, SaveBytes { stored.set(it) }))
        val offline = PublicClientApplication(config(reloaded, closedPortAuthority()))
        assertEquals(first.accessToken, offline.acquireTokenSilent(GRAPH, offline.getAccounts().single()).accessToken)
        val fromFile = TokenCache()
        fromFile.persistIn(file)
        assertEquals(1, PublicClientApplication(config(fromFile, closedPortAuthority())).getAccounts().size)

        val failing = TokenCache()
        val e = assertThrows<ClientException> {
            failing.persistIn(cacheStorage(LoadBytes { throw java.io.IOException("disk gone") }, SaveBytes { }))
        }
        assertEquals("cache_storage_failed", e.errorCode)
    }
}
