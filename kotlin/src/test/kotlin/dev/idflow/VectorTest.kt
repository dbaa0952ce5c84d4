package dev.idflow

import dev.idflow.Vectors.longs
import dev.idflow.Vectors.stringOrNull
import dev.idflow.Vectors.strings
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.assertThrows

/**
 * Runs every case of testdata/vectors.json: the core's decision as data, then
 * what a Kotlin caller observes (the exception class, reason, cause, fields).
 * One dynamic test per case, so Surefire counts each.
 */
class VectorTest {
    @TestFactory
    fun vectors(): List<DynamicTest> = dynamicTests(Vectors.cases(), Vectors.path.path)

    /** The responses taken from the MSAL libraries' test suites, run the same way. */
    @TestFactory
    fun corpus(): List<DynamicTest> {
        val cases = Vectors.corpus()
        assertTrue(cases.size >= 150, "only ${cases.size} cases in ${Vectors.corpusPath}")
        return dynamicTests(cases, Vectors.corpusPath.path)
    }

    private fun dynamicTests(cases: List<JSONObject>, from: String): List<DynamicTest> {
        assertTrue(cases.isNotEmpty(), "no cases in $from")
        val names = cases.map { it.getString("name") }
        assertEquals(names.size, names.toSet().size, "case names must be unique")
        return cases.map { case ->
            val name = case.getString("name")
            DynamicTest.dynamicTest(name) { named(name) { run(case) } }
        }
    }

    private fun run(case: JSONObject) {
        val input = case.getJSONObject("input")
        val expect = case.getJSONObject("expect")
        known(expect, EXPECT_KEYS, "expect")
        when (val type = input.getString("type")) {
            "response" -> response(input, expect)
            "transport" -> {
                val info = IdFlow.transportFailure(Vectors.network(input), input.optString("detail", ""))
                decision(expect, info)
                thrown(expect, info) { IdFlow.raise(info) }
            }
            "explain" -> {
                val query = input.getString("query")
                // A query the core cannot explain is itself thrown (invalid_parameter).
                val info =
                    try {
                        IdFlow.explain(query)
                    } catch (e: IdFlowException) {
                        decision(expect, e.info)
                        thrown(expect, e.info) { IdFlow.explain(query) }
                        return
                    }
                decision(expect, info)
                thrown(expect, info) { IdFlow.raise(info) }
            }
            else -> fail("unknown input type '$type'")
        }
    }

    private fun response(input: JSONObject, expect: JSONObject) {
        val status = input.getInt("status")
        val headers = Vectors.headers(input)
        val body = Vectors.body(input)
        val flow = Vectors.flow(input)

        val c = IdFlow.classifyResponse(status, headers, body, flow)
        assertEquals(expect.getString("outcome").uppercase(), c.outcome.name, "outcome")
        if (expect.has("polling")) {
            assertEquals(expect.stringOrNull("polling")?.uppercase(), c.polling?.name, "polling")
        }
        if (c.outcome == Outcome.SUCCESS) {
            assertNull(c.error, "a success carries no error")
            val r = IdFlow.raiseForResponse(status, headers, body, flow) // must not throw
            assertEquals(Outcome.SUCCESS, r.outcome)
            return
        }
        val info = Vectors.present(c.error, "a ${c.outcome} carries an error")
        decision(expect, info)
        thrown(expect, info) { IdFlow.raiseForResponse(status, headers, body, flow) }
    }

    /** The core's decision, as `expect`'s top-level keys describe it. */
    private fun decision(expect: JSONObject, info: ErrorInfo) {
        if (expect.has("kind")) assertEquals(expect.getString("kind").uppercase(), info.kind.name, "kind")
        if (expect.has("code")) assertEquals(expect.getString("code"), info.code, "code")
        if (expect.has("classification")) {
            // null means "not interaction-required", which the FFI carries as NONE.
            val want = expect.stringOrNull("classification")?.let(Vectors::upperSnake) ?: "NONE"
            assertEquals(want, info.classification.name, "classification")
        }
        if (expect.has("retryable")) assertEquals(expect.getBoolean("retryable"), info.retryable, "retryable")
        if (expect.has("retry_after_secs")) {
            val want = if (expect.isNull("retry_after_secs")) null else expect.getLong("retry_after_secs")
            assertEquals(want, info.retryAfterSecs?.toLong(), "retry_after_secs")
        }
        if (expect.has("action")) {
            assertEquals(expect.getString("action"), Vectors.lowerSnake(info.action.javaClass.simpleName), "action")
        }
        if (expect.has("aadsts")) assertEquals(expect.longs("aadsts"), info.errorCodes, "aadsts")
    }

    /** What `call` throws, checked against `expect.kotlin`. */
    private fun thrown(expect: JSONObject, info: ErrorInfo, call: () -> Unit) {
        val e = assertThrows<IdFlowException>("must throw an IdFlowException") { call() }
        assertEquals(info, e.info, "the thrown exception carries the same decision")
        assertEquals(info.message, e.message, "message")
        assertEquals(info.code, e.errorCode, "errorCode")
        assertEquals(info.correlationId, e.correlationId, "correlationId")
        assertEquals(info.action, e.action, "action")
        assertEquals(info.mitigation, e.mitigation, "mitigation")
        assertEquals(info.retryable, e.isRetryable, "isRetryable")

        val k = expect.optJSONObject("kotlin") ?: return
        known(k, KOTLIN_KEYS, "expect.kotlin")
        val className = k.getString("class")
        assertEquals(className, e.javaClass.simpleName, "exception class")

        val reason = k.stringOrNull("reason")
        if (reason == null) {
            assertFalse(e is InteractionRequiredException, "no reason expected, got $e")
        } else {
            assertEquals(reason, assertInstanceOf(InteractionRequiredException::class.java, e).reason.name, "reason")
        }

        val cause = k.stringOrNull("cause")
        if (cause == null) {
            assertNull(e.cause, "cause")
        } else {
            val actual = Vectors.present(e.cause, "cause").javaClass
            assertEquals(cause, if ('.' in cause) actual.name else actual.simpleName, "cause")
        }

        if (k.has("status_code")) {
            assertEquals(k.getInt("status_code"), service(e).statusCode, "statusCode")
        }
        if (k.has("retry_after_ms")) {
            val want = if (k.isNull("retry_after_ms")) null else k.getLong("retry_after_ms")
            assertEquals(want, service(e).retryAfterMs, "retryAfterMs")
            if (e is ThrottlingException) assertEquals(want ?: 0L, e.retryInMs, "retryInMs")
        }
        if (k.has("headers")) {
            val want = k.getJSONObject("headers")
            val actual = service(e).headers()
            for (name in want.keySet()) assertEquals(want.strings(name), actual[name], "header $name")
        }
        if (k.has("headers_absent")) {
            val actual = service(e).headers()
            for (name in k.strings("headers_absent")) assertFalse(name in actual, "header $name must be absent")
        }

        if (e is ServiceException) {
            // The MSAL-for-Java idiom: one catch for the whole service family.
            val caught =
                try {
                    call()
                    null
                } catch (s: ServiceException) {
                    s
                }
            assertEquals(e.javaClass, Vectors.present(caught, "catch (ServiceException) caught nothing").javaClass)
        }
    }

    // A key this suite does not know would otherwise pass unchecked: fail instead.
    private fun known(o: JSONObject, keys: Set<String>, where: String) {
        val unknown = o.keySet() - keys
        assertTrue(unknown.isEmpty(), "$where has keys this suite does not check: $unknown")
    }

    private fun service(e: IdFlowException): ServiceException = assertInstanceOf(ServiceException::class.java, e)

    private companion object {
        val EXPECT_KEYS =
            setOf(
                "outcome", "polling", "kind", "code", "classification", "retryable", "retry_after_secs",
                "action", "aadsts", "swift", "kotlin", "python",
            )
        val KOTLIN_KEYS =
            setOf("class", "reason", "cause", "status_code", "retry_after_ms", "headers", "headers_absent")
    }
}
