package dev.idflow

import org.json.JSONArray
import org.json.JSONObject
import java.io.File
import java.util.Base64

/** Reads testdata/vectors.json (schema: testdata/README.md) at test time. */
object Vectors {
    /** Set by scripts/test-kotlin.sh; the default works when Maven runs in kotlin/. */
    val path: File = File(System.getProperty("idflow.vectors") ?: "../testdata/vectors.json")

    /** testdata/corpus.json, next to the vectors: the same schema, each case citing its source. */
    val corpusPath: File get() = File(path.absoluteFile.parentFile, "corpus.json")

    fun cases(): List<JSONObject> = read(path)

    fun corpus(): List<JSONObject> = read(corpusPath)

    private fun read(file: File): List<JSONObject> {
        val root = JSONObject(file.readText(Charsets.UTF_8))
        val cases = root.getJSONArray("cases")
        return (0 until cases.length()).map { cases.getJSONObject(it) }
    }

    fun headers(input: JSONObject): List<Header> {
        val list = input.optJSONArray("headers") ?: JSONArray()
        return (0 until list.length()).map {
            val pair = list.getJSONArray(it)
            Header(pair.getString(0), pair.getString(1))
        }
    }

    fun body(input: JSONObject): ByteArray =
        when {
            input.has("body") -> input.getString("body").toByteArray(Charsets.UTF_8)
            input.has("body_base64") -> Base64.getDecoder().decode(input.getString("body_base64"))
            input.has("body_repeat") -> {
                val r = input.getJSONObject("body_repeat")
                r.getString("chunk").repeat(r.getInt("times")).toByteArray(Charsets.UTF_8)
            }
            else -> ByteArray(0)
        }

    /** A flow name or a grant name (`refresh_token`), read by the core. */
    fun flow(input: JSONObject): Flow = IdFlow.parseFlow(input.getString("flow"))

    fun network(input: JSONObject): NetworkKind = NetworkKind.valueOf(input.getString("network").uppercase())

    /** `BasicAction` → `BASIC_ACTION` (MSAL.NET names to Kotlin constants). */
    fun upperSnake(pascal: String): String = pascal.replace(Regex("([a-z0-9])([A-Z])"), "$1_$2").uppercase()

    /** `AcquireInteractively` → `acquire_interactively`. */
    fun lowerSnake(pascal: String): String = upperSnake(pascal).lowercase()

    /** `INTERACTION_REQUIRED_EXCEPTION` → `InteractionRequiredException`. */
    fun pascal(upperSnake: String): String =
        upperSnake.lowercase().split('_').joinToString("") { it.replaceFirstChar(Char::uppercase) }

    /** [value], failing the test with [what] when it is null. */
    fun <T : Any> present(value: T?, what: String): T {
        org.junit.jupiter.api.Assertions.assertNotNull(value, what)
        return value!!
    }

    /** The key's value, or null when it is absent or JSON null. */
    fun JSONObject.stringOrNull(key: String): String? = if (isNull(key)) null else getString(key)

    fun JSONObject.longs(key: String): List<Long> {
        val a = getJSONArray(key)
        return (0 until a.length()).map { a.getLong(it) }
    }

    fun JSONObject.strings(key: String): List<String> {
        val a = getJSONArray(key)
        return (0 until a.length()).map { a.getString(it) }
    }
}
