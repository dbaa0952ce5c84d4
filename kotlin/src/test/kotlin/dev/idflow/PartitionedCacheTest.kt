package dev.idflow

import dev.idflow.Emulator.Companion.APP_SCOPE
import dev.idflow.Emulator.Companion.CONFIDENTIAL_CLIENT
import dev.idflow.Emulator.Companion.SECRET
import dev.idflow.Emulator.Companion.TENANT
import dev.idflow.ffi.ClientCredential
import dev.idflow.ffi.PartitionData
import dev.idflow.ffi.PartitionedCacheStorage
import dev.idflow.ffi.RedisCacheOptions
import java.net.ServerSocket
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

/** The partitioned cache from Kotlin: the app's own store, and Redis when it is down. */
class PartitionedCacheTest {
    private val em = Servers.emulator()

    @BeforeEach
    fun reset() {
        em.reset()
        em.request("DELETE", "/_admin/requests")
    }

    /** What an app's database table would do: one row per partition, compare-and-set on a version. */
    class MapStore : PartitionedCacheStorage {
        val rows = HashMap<String, PartitionData>()
        private var writes = 0

        @Synchronized
        override fun load(partition: String): PartitionData? = rows[partition]

        @Synchronized
        override fun save(partition: String, data: ByteArray, expectedVersion: String?, expiresAtUnix: ULong): Boolean {
            if (rows[partition]?.version != expectedVersion) return false
            writes += 1
            rows[partition] = PartitionData(data, writes.toString())
            return true
        }
    }

    private fun app(cache: TokenCache) =
        ConfidentialClientApplication(
            AppConfig(clientId = CONFIDENTIAL_CLIENT, authority = em.authority(TENANT), tokenCache = cache),
            ClientCredential.Secret(SECRET),
        )

    private fun tokenRequests() = em.requests().filter { it.optString("endpoint") == "token" }

    @Test
    fun aSecondInstanceReadsTheFirstOnesTokenFromTheAppsStore() = runBlocking {
        val store = MapStore()
        val first = TokenCache().also { it.attachPartitionedStorage(store, 0UL) }
        val second = TokenCache().also { it.attachPartitionedStorage(store, 0UL) }
        val token = app(first).acquireTokenForClient(APP_SCOPE)
        val again = app(second).acquireTokenForClient(APP_SCOPE)
        assertEquals(TokenSource.CACHE, again.tokenSource)
        assertEquals(token.accessToken, again.accessToken)
        assertEquals(1, tokenRequests().size)
        val key = store.rows.keys.single()
        assertTrue(key.startsWith("${CONFIDENTIAL_CLIENT}_") && key.endsWith("_AppTokenCache"), key)
    }

    @Test
    fun aRedisThatDoesNotAnswerFailsNoCall() = runBlocking {
        val port = ServerSocket(0).use { it.localPort }
        val cache = TokenCache()
        cache.attachRedis(listOf("redis://127.0.0.1:$port/"), RedisCacheOptions())
        val app = app(cache)
        app.acquireTokenForClient(APP_SCOPE)
        assertEquals(TokenSource.CACHE, app.acquireTokenForClient(APP_SCOPE).tokenSource)
        assertTrue(cache.partitionStoreDegraded())
    }
}
