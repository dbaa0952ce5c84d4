package dev.idflow

import dev.idflow.Emulator.Companion.CONFIDENTIAL_CLIENT
import dev.idflow.Emulator.Companion.GRAPH
import dev.idflow.Emulator.Companion.PASSWORD
import dev.idflow.Emulator.Companion.SECRET
import dev.idflow.Emulator.Companion.TENANT
import dev.idflow.Emulator.Companion.USER
import dev.idflow.ffi.ClientCredential
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

/** getAccount(homeAccountId): a web farm's other instance finds the user by the id it kept. */
class GetAccountTest {
    private val em = Servers.emulator()

    @BeforeEach
    fun reset() {
        em.reset()
        em.request("DELETE", "/_admin/requests")
    }

    private fun instance(store: PartitionedCacheTest.MapStore) =
        ConfidentialClientApplication(
            AppConfig(
                clientId = CONFIDENTIAL_CLIENT,
                authority = em.authority(TENANT),
                tokenCache = TokenCache().also { it.attachPartitionedStorage(store, 0UL) },
            ),
            ClientCredential.Secret(SECRET),
        )

    private fun tokenRequests() = em.requests().filter { it.optString("endpoint") == "token" }

    @Test
    fun anotherInstanceFindsTheUserByIdAndAnswersSilently() = runBlocking {
        val store = PartitionedCacheTest.MapStore()
        val signedIn = instance(store).acquireTokenByUsernamePassword(USER, PASSWORD, GRAPH)
        val home = checkNotNull(signedIn.account) { "the sign-in names its account" }.homeAccountId
        val other = instance(store)
        // It has read no partition yet: the list is empty, the lookup by id is not.
        assertTrue(other.getAccounts().isEmpty())
        assertNull(other.getAccount("no-such-user.$TENANT"))
        val account = other.getAccount(home)
        assertEquals(home, account?.homeAccountId)
        assertEquals(USER, account?.username)
        val silent = other.acquireTokenSilent(GRAPH, account)
        assertEquals(TokenSource.CACHE, silent.tokenSource)
        assertEquals(signedIn.accessToken, silent.accessToken)
        assertEquals(1, tokenRequests().size)
    }
}
