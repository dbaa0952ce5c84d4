package dev.idflow

import org.json.JSONArray
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertTrue
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration

/**
 * The test servers scripts/with-servers.sh starts (scripts/test-kotlin.sh runs
 * the suite under it): read from the environment, or from the system
 * properties of the same name in lower case with dots (`idflow.emulator.url`).
 */
object Servers {
    private fun setting(env: String): String? =
        System.getenv(env)?.takeIf { it.isNotBlank() }
            ?: System.getProperty(env.lowercase().replace('_', '.'))?.takeIf { it.isNotBlank() }

    val emulatorUrl: String? = setting("IDFLOW_EMULATOR_URL")?.trimEnd('/')
    private val oidcInfoJson: String? = setting("IDFLOW_OIDC_INFO")

    /** Fails the calling test when the servers are not up (run scripts/test-kotlin.sh, which starts them). */
    fun emulator(): Emulator {
        assertTrue(emulatorUrl != null, "IDFLOW_EMULATOR_URL unset: run scripts/test-kotlin.sh")
        return Emulator(emulatorUrl!!)
    }

    fun oidc(): JSONObject {
        assertTrue(oidcInfoJson != null, "IDFLOW_OIDC_INFO unset: run scripts/test-kotlin.sh")
        return JSONObject(oidcInfoJson)
    }

    val http: HttpClient =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build()
}

/** The emulator's admin API (emulator/README.md), over java.net.http. */
class Emulator(val base: String) {
    fun authority(tenant: String = "organizations"): String = "$base/$tenant"

    fun request(method: String, path: String, body: Any? = null): String {
        val b = HttpRequest.newBuilder(URI.create("$base$path")).timeout(Duration.ofSeconds(10))
        val publisher =
            if (body == null) HttpRequest.BodyPublishers.noBody() else HttpRequest.BodyPublishers.ofString(body.toString())
        if (body != null) b.header("content-type", "application/json")
        val r = Servers.http.send(b.method(method, publisher).build(), HttpResponse.BodyHandlers.ofString())
        check(r.statusCode() in 200..299) { "$method $path -> ${r.statusCode()}: ${r.body()}" }
        return r.body()
    }

    fun reset() {
        request("POST", "/_admin/reset")
        request("PATCH", "/_admin/settings", JSONObject().put("device_code_interval_secs", 0))
    }

    /** Arms a named preset for [count] matching requests (null: every one), optionally narrowed by [match]. */
    fun preset(name: String, count: Int? = 1, match: JSONObject? = null) {
        val body = JSONObject().put("count", count ?: JSONObject.NULL)
        if (match != null) body.put("match", match)
        request("POST", "/_admin/presets/$name", body)
    }

    fun fault(rule: JSONObject) {
        request("POST", "/_admin/faults", rule)
    }

    fun approve(userCode: String) {
        request("POST", "/_admin/device_codes/approve", JSONObject().put("user_code", userCode))
    }

    fun decline(userCode: String) {
        request("POST", "/_admin/device_codes/decline", JSONObject().put("user_code", userCode))
    }

    /** The admin view of one device code (`polls`, `status`, …). */
    fun deviceCode(userCode: String): JSONObject {
        val raw = request("GET", "/_admin/device_codes")
        val list = if (raw.trimStart().startsWith("[")) JSONArray(raw) else JSONObject(raw).getJSONArray("device_codes")
        for (i in 0 until list.length()) {
            val o = list.getJSONObject(i)
            if (o.optString("user_code") == userCode) return o
        }
        error("no device code $userCode in $raw")
    }

    fun requests(): List<JSONObject> {
        val raw = request("GET", "/_admin/requests")
        val list = if (raw.trimStart().startsWith("[")) JSONArray(raw) else JSONObject(raw).getJSONArray("requests")
        return (0 until list.length()).map { list.getJSONObject(it) }
    }

    fun createCertificate(clientId: String): JSONObject =
        JSONObject(request("POST", "/_admin/clients/$clientId/certificate", JSONObject()))

    companion object {
        const val PUBLIC_CLIENT = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e01"
        const val CONFIDENTIAL_CLIENT = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10"
        const val SECRET = "emulator-secret-do-not-use-in-production"
        const val USER = "ada@emulator.idflow.test"
        const val PASSWORD = "correct horse battery staple"
        const val TENANT = "emulator.idflow.test"
        val GRAPH = listOf("User.Read")
        val APP_SCOPE = listOf("api://$CONFIDENTIAL_CLIENT/.default")
        val OBO_SCOPE = listOf("api://$CONFIDENTIAL_CLIENT/access_as_user")
    }
}
