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
import java.util.Collections
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.parallel.Isolated

/**
 * No panic crosses into Kotlin from a suspending call, and idflow's log lines
 * reach a listener without a secret, with personal data only when switched on.
 * Isolated: the logger and the PII switch are process-wide.
 */
@Isolated
class LoggingPanicTest {
    private val em: Emulator by lazy { Servers.emulator() }

    private data class Line(val level: LogLevel, val message: String, val containsPii: Boolean)

    @Test
    fun anAsyncPanicIsAClassifiedInternalError() {
        val e = assertThrows<ClientException> { runBlocking { IdFlow.selfTestPanicAsync() } }
        assertSame(ClientException::class.java, e.javaClass)
        assertEquals("internal_error", e.errorCode)
    }

    /** Client credentials and ROPC, a success and a failure each; every secret involved. */
    private fun runFlows(): List<String> {
        em.reset()
        val cca = ConfidentialClientApplication(AppConfig(clientId = CONFIDENTIAL_CLIENT, authority = em.authority(TENANT)), ClientCredential.Secret(SECRET))
        val pca = PublicClientApplication(PUBLIC_CLIENT, em.authority(TENANT))
        val app = cca.acquireTokenForClientBlocking(APP_SCOPE)
        val user = pca.acquireTokenByUsernamePasswordBlocking(USER, PASSWORD, GRAPH)
        val wrongSecret = "WRONG-SECRET-5e6f"
        val bad = ConfidentialClientApplication(AppConfig(clientId = CONFIDENTIAL_CLIENT, authority = em.authority(TENANT)), ClientCredential.Secret(wrongSecret))
        assertEquals("invalid_client", assertThrows<ServiceException> { bad.acquireTokenForClientBlocking(APP_SCOPE) }.errorCode)
        val wrongPassword = "WRONG-PASSWORD-7a8b"
        assertThrows<IdFlowException> { pca.acquireTokenByUsernamePasswordBlocking(USER, wrongPassword, GRAPH) }
        return listOfNotNull(SECRET, PASSWORD, wrongSecret, wrongPassword, app.accessToken, user.accessToken, user.refreshToken, user.idToken)
    }

    @Test
    fun logLinesReachTheListenerWithoutSecretsAndPiiOnlyWhenOn() {
        val lines = Collections.synchronizedList(mutableListOf<Line>())
        try {
            IdFlow.setPiiLoggingEnabled(false)
            IdFlow.setLogger(LogLevel.TRACE) { level, message, pii -> lines.add(Line(level, message, pii)) }
            var secrets = runFlows()
            var text = synchronized(lines) { lines.joinToString("\n") }
            assertTrue(lines.any { it.level == LogLevel.DEBUG && it.message.startsWith("request sent") }, text)
            assertTrue(lines.any { it.level == LogLevel.WARNING && it.message.contains("code=invalid_client") }, text)
            assertTrue(lines.none { it.containsPii }, text)
            for (v in secrets + listOf(USER, TENANT)) assertFalse(text.contains(v), "${v.take(6)}... leaked")

            lines.clear()
            IdFlow.setPiiLoggingEnabled(true)
            assertTrue(IdFlow.isPiiLoggingEnabled())
            secrets = runFlows()
            text = synchronized(lines) { lines.joinToString("\n") }
            assertTrue(lines.any { it.containsPii && it.message.contains(USER) }, text)
            for (v in secrets) assertFalse(text.contains(v), "${v.take(6)}... leaked with PII on")

            // Less verbose: only errors (none in these flows) pass.
            lines.clear()
            IdFlow.setLogger(LogLevel.ERROR) { level, message, pii -> lines.add(Line(level, message, pii)) }
            runFlows()
            assertTrue(lines.all { it.level == LogLevel.ERROR }, lines.toString())
        } finally {
            IdFlow.setPiiLoggingEnabled(false)
            IdFlow.setLogger(LogLevel.ERROR, null)
        }
    }

    @Test
    fun aThrowingListenerDoesNotBreakASignIn() {
        try {
            IdFlow.setLogger(LogLevel.TRACE) { _, _, _ -> throw IllegalStateException("broken listener") }
            em.reset()
            val cca = ConfidentialClientApplication(AppConfig(clientId = CONFIDENTIAL_CLIENT, authority = em.authority(TENANT)), ClientCredential.Secret(SECRET))
            assertTrue(cca.acquireTokenForClientBlocking(APP_SCOPE).accessToken.isNotEmpty())
        } finally {
            IdFlow.setLogger(LogLevel.ERROR, null)
        }
    }
}
