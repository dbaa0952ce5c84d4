package dev.idflow

import dev.idflow.ffi.mappingCatalogue
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.IOException

/**
 * Every value the core's catalogue lists has a mapping in the Kotlin layer, and
 * the mapping is the one the value names: a new core value, or a wrong `when`
 * branch here, fails this test.
 */
class ConsistencyTest {
    private val catalogue = mappingCatalogue()

    // A real decision to vary one field of at a time.
    private val sample: ErrorInfo = IdFlow.transportFailure(NetworkKind.TIMEOUT, "consistency")

    @Test
    fun everyKotlinClassBecomesThatException() {
        assertFalse(catalogue.kotlinClasses.isEmpty())
        for (k in catalogue.kotlinClasses) {
            val e = sample.copy(kotlin = KotlinInfo(k, null)).toException()
            assertEquals(Vectors.pascal(k.name), e.javaClass.simpleName, "KotlinClass.$k")
        }
    }

    @Test
    fun everyJavaCauseBecomesThatThrowable() {
        assertFalse(catalogue.javaCauses.isEmpty())
        for (c in catalogue.javaCauses) {
            val e = sample.copy(kotlin = KotlinInfo(KotlinClass.CLIENT_EXCEPTION, c)).toException()
            val cause = Vectors.present(e.cause, "JavaCause.$c has no cause")
            // SSL_EXCEPTION names javax.net.ssl.SSLException: compare ignoring case.
            assertTrue(Vectors.pascal(c.name).equals(cause.javaClass.simpleName, ignoreCase = true), "JavaCause.$c → ${cause.javaClass.name}")
            assertInstanceOf(IOException::class.java, cause)
            assertTrue(cause.javaClass.name.startsWith("java.net.") || cause.javaClass.name.startsWith("javax.net.ssl."))
            assertEquals(sample.message, cause.message)
        }
    }

    @Test
    fun everyClassificationBecomesTheCataloguedReason() {
        val reasons = catalogue.kotlinReasons
        assertEquals(catalogue.classifications.size, reasons.size)
        assertEquals(InteractionRequiredReason.entries.map { it.name }, reasons, "the enum mirrors the catalogue, in order")
        for ((i, c) in catalogue.classifications.withIndex()) {
            assertEquals(reasons[i], InteractionRequiredReason.of(c).name, "Classification.$c")
            val info =
                sample.copy(
                    kind = ErrorKind.INTERACTION_REQUIRED,
                    classification = c,
                    kotlin = KotlinInfo(KotlinClass.INTERACTION_REQUIRED_EXCEPTION, null),
                )
            val e = assertInstanceOf(InteractionRequiredException::class.java, info.toException())
            assertEquals(reasons[i], e.reason.name, "reason on the exception for Classification.$c")
        }
    }

    @Test
    fun everyLocalCodeThrowsTheClassOfItsKind() {
        assertFalse(catalogue.localCodes.isEmpty())
        for (lc in catalogue.localCodes) {
            val info = IdFlow.explain(lc.code)
            assertEquals(lc.code, info.code)
            assertEquals(lc.kind, info.kind, lc.code)
            val e = info.toException()
            assertSame(classFor(lc.kind), e.javaClass, "${lc.code} (${lc.kind})")
            assertEquals(lc.code, e.errorCode)
            val thrown = assertThrows<IdFlowException> { IdFlow.raise(info) }
            assertSame(e.javaClass, thrown.javaClass, "raise(${lc.code})")
        }
    }

    @Test
    fun everyKindHasAClass() {
        for (k in catalogue.kinds) assertNotNull(classFor(k))
    }

    @Test
    fun everyNetworkKindIsAClientExceptionWithItsCause() {
        assertFalse(catalogue.networkKinds.isEmpty())
        for (n in catalogue.networkKinds) {
            val info = IdFlow.transportFailure(n, "network $n")
            val e = assertThrows<IdFlowException> { IdFlow.raise(info) }
            assertSame(ClientException::class.java, e.javaClass, "$n")
            val cause = Vectors.present(e.cause, "$n has no cause")
            val named = Vectors.present(info.kotlin.cause, "$n: the core names no cause")
            assertTrue(Vectors.pascal(named.name).equals(cause.javaClass.simpleName, ignoreCase = true), "$n → ${cause.javaClass.name}")
        }
    }

    /** What an app expects to catch for each kind (spec §3, Kotlin). */
    private fun classFor(kind: ErrorKind): Class<out IdFlowException> =
        when (kind) {
            ErrorKind.CLIENT, ErrorKind.NETWORK, ErrorKind.CANCELLED -> ClientException::class.java
            ErrorKind.SERVICE -> ServiceException::class.java
            ErrorKind.INTERACTION_REQUIRED -> InteractionRequiredException::class.java
            ErrorKind.THROTTLED -> ThrottlingException::class.java
        }
}
