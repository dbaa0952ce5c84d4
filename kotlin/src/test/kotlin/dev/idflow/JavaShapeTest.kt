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
import java.util.concurrent.CancellationException
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * MSAL for Java's shape: builders and CompletableFuture variants, against the
 * emulator. Plain future calls (`get`), no coroutines, as a Java caller writes them.
 */
class JavaShapeTest {
    private lateinit var em: Emulator

    @BeforeEach
    fun setUp() {
        em = Servers.emulator()
        em.reset()
    }

    @Test
    fun builtConfidentialClientGetsAnAppTokenThroughAFuture() {
        val cache = TokenCache()
        val app = ConfidentialClientApplication.builder(CONFIDENTIAL_CLIENT, ClientCredential.Secret(SECRET))
            .authority(em.authority(TENANT))
            .clientCapabilities(setOf("cp1"))
            .tokenCache(cache)
            .build()
        val first = app.acquireTokenForClientAsync(APP_SCOPE).get(20, TimeUnit.SECONDS)
        assertTrue(first.accessToken.isNotEmpty())
        // The builder's cache is the one the app writes: the second call is a hit.
        val second = app.acquireTokenForClientAsync(APP_SCOPE).get(20, TimeUnit.SECONDS)
        assertEquals(TokenSource.CACHE, second.tokenSource)
        val sent = em.requests().filter { it.optString("endpoint") == "token" }
        assertEquals(1, sent.size, "one token request: $sent")
        assertTrue(sent[0].toString().contains("cp1"), "capabilities sent as claims: ${sent[0]}")
    }

    @Test
    fun aFailedFutureCarriesTheIdFlowException() {
        val app = ConfidentialClientApplication.builder(CONFIDENTIAL_CLIENT, ClientCredential.Secret("wrong"))
            .authority(em.authority(TENANT))
            .retry(false)
            .build()
        val failure = assertThrows<ExecutionException> { app.acquireTokenForClientAsync(APP_SCOPE).get(20, TimeUnit.SECONDS) }
        val e = assertInstanceOf(ServiceException::class.java, failure.cause)
        assertEquals("invalid_client", e.errorCode)
    }

    @Test
    fun aBadAuthorityFailsAtBuildWithAClientException() {
        val e = assertThrows<ClientException> {
            PublicClientApplication.builder(PUBLIC_CLIENT).authority("http://login.microsoftonline.com/common").build()
        }
        assertFalse(e.errorCode.isEmpty())
    }

    @Test
    fun publicClientFuturesChainLikeMsalForJava() {
        val app = PublicClientApplication.builder(PUBLIC_CLIENT)
            .authority(em.authority())
            .instanceDiscovery(false)
            .build()
        val result = app.acquireTokenByUsernamePasswordAsync(USER, PASSWORD, GRAPH)
            .thenCompose { app.acquireTokenSilentAsync(GRAPH, app.getAccounts().single()) }
            .get(20, TimeUnit.SECONDS)
        assertEquals(TokenSource.CACHE, result.tokenSource)
    }

    @Test
    fun cancellingTheFutureStopsTheDevicePoll() {
        val app = PublicClientApplication.builder(PUBLIC_CLIENT).authority(em.authority()).build()
        val flow = app.initiateDeviceFlowAsync(GRAPH).get(20, TimeUnit.SECONDS)
        val handle = CancelHandle()
        val pending = app.acquireTokenByDeviceFlowAsync(flow, handle)
        val deadline = System.nanoTime() + 10_000_000_000
        while (em.deviceCode(flow.userCode()).optInt("polls") < 1) {
            check(System.nanoTime() < deadline) { "no poll: ${em.deviceCode(flow.userCode())}" }
            Thread.sleep(20)
        }
        assertTrue(pending.cancel(true))
        assertThrows<CancellationException> { pending.get() }
        // The coroutine's cancellation reaches the core's handle (asynchronously).
        val stop = System.nanoTime() + 10_000_000_000
        while (!handle.isCancelled()) {
            check(System.nanoTime() < stop) { "the future's cancellation never reached the CancelHandle" }
            Thread.sleep(10)
        }
        assertSame(true, handle.isCancelled())
    }
}
