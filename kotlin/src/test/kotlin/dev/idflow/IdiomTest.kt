package dev.idflow

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.lang.reflect.Modifier

/** The parts of the Kotlin idiom that the vectors do not reach. */
class IdiomTest {
    @Test
    fun aPanicInTheCoreIsAClientExceptionNotACrash() {
        val e = assertThrows<IdFlowException> { IdFlow.selfTestPanic() }
        assertSame(ClientException::class.java, e.javaClass)
        assertEquals("internal_error", e.errorCode)
        // The library still works afterwards.
        assertEquals("invalid_grant", IdFlow.explain("invalid_grant").code)
    }

    @Test
    fun headersKeepRepeatsAreCaseInsensitiveAndReadOnly() {
        val info =
            IdFlow.explain("invalid_client").copy(
                headers =
                    listOf(
                        Header("www-authenticate", "Bearer a"),
                        Header("retry-after", "5"),
                        Header("www-authenticate", "Bearer b"),
                    ),
                kotlin = KotlinInfo(KotlinClass.SERVICE_EXCEPTION, null),
            )
        val e = info.toException() as ServiceException
        val h = e.headers()
        assertEquals(listOf("Bearer a", "Bearer b"), h["www-authenticate"])
        assertEquals(listOf("Bearer a", "Bearer b"), h["WWW-Authenticate"])
        assertEquals(listOf("5"), h["Retry-After"])
        @Suppress("UNCHECKED_CAST")
        assertThrows<UnsupportedOperationException> { (h as MutableMap<String, List<String>>)["x"] = listOf() }
        @Suppress("UNCHECKED_CAST")
        assertThrows<UnsupportedOperationException> { (h["retry-after"] as MutableList<String>).add("6") }
    }

    @Test
    fun retryAfterBecomesMilliseconds() {
        val info =
            IdFlow.explain("invalid_client").copy(
                retryAfterSecs = 30uL,
                kotlin = KotlinInfo(KotlinClass.THROTTLING_EXCEPTION, null),
            )
        val e = info.toException() as ThrottlingException
        assertEquals(30_000L, e.retryAfterMs)
        assertEquals(30_000L, e.retryInMs)
        val none = IdFlow.explain("invalid_client").copy(retryAfterSecs = null).toException() as ServiceException
        assertNull(none.retryAfterMs)
    }

    @Test
    fun anOutOfRangeStatusIsMisuse() {
        assertThrows<IllegalArgumentException> { IdFlow.classifyResponse(70000, emptyList<Header>(), ByteArray(0), Flow.TOKEN) }
    }

    @Test
    fun headerFieldsMapFormSkipsTheStatusLine() {
        val fields: Map<String?, List<String?>?> =
            mapOf(null to listOf("HTTP/1.1 400 Bad Request"), "Content-Type" to listOf("application/json"))
        val body = """{"error": "invalid_client"}""".toByteArray()
        val c = IdFlow.classifyResponse(400, fields, body, Flow.TOKEN)
        assertEquals(listOf(Header("content-type", "application/json")), c.error!!.headers)
    }

    @Test
    fun javaCallersSeePlainStaticMethods() {
        val cls = IdFlow::class.java
        val list = List::class.java
        val bytes = ByteArray::class.java
        val int = Int::class.javaPrimitiveType
        for (m in listOf(
            cls.getMethod("classifyResponse", int, list, bytes, Flow::class.java),
            cls.getMethod("raiseForResponse", int, list, bytes, Flow::class.java),
            cls.getMethod("explain", String::class.java),
            cls.getMethod("transportFailure", NetworkKind::class.java, String::class.java),
            cls.getMethod("raise", ErrorInfo::class.java),
            cls.getMethod("selfTestPanic"),
        )) {
            assertTrue(Modifier.isStatic(m.modifiers), "${m.name} is not static")
        }
        val svc = ServiceException::class.java
        assertEquals(Int::class.javaPrimitiveType, svc.getMethod("getStatusCode").returnType)
        assertEquals(Long::class.javaObjectType, svc.getMethod("getRetryAfterMs").returnType)
        assertEquals(Map::class.java, svc.getMethod("headers").returnType)
        assertEquals(Boolean::class.javaPrimitiveType, svc.getMethod("isRetryable").returnType)
        assertTrue(RuntimeException::class.java.isAssignableFrom(IdFlowException::class.java))
    }
}
