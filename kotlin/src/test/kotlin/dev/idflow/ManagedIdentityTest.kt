package dev.idflow

import dev.idflow.ffi.ManagedIdentityConfig
import dev.idflow.ffi.ManagedIdentityId
import dev.idflow.ffi.ManagedIdentitySource
import kotlinx.coroutines.runBlocking
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.net.ServerSocket

/** ManagedIdentityApplication against the emulator's endpoint of every source. */
class ManagedIdentityTest {
    private lateinit var em: Emulator
    private lateinit var info: JSONObject

    private val sources = mapOf(
        "imds" to ManagedIdentitySource.IMDS,
        "app_service" to ManagedIdentitySource.APP_SERVICE,
        "service_fabric" to ManagedIdentitySource.SERVICE_FABRIC,
        "azure_arc" to ManagedIdentitySource.AZURE_ARC,
        "cloud_shell" to ManagedIdentitySource.CLOUD_SHELL,
        "machine_learning" to ManagedIdentitySource.MACHINE_LEARNING,
    )

    @BeforeEach
    fun setUp() {
        em = Servers.emulator()
        em.reset()
        info = JSONObject(em.request("GET", "/_admin/managed_identity"))
    }

    private fun env(source: String): Map<String, String> {
        val vars = info.getJSONObject("sources").getJSONObject(source)
        return vars.keySet().associateWith { vars.getString(it) }
    }

    private fun app(source: String, id: ManagedIdentityId = ManagedIdentityId.SystemAssigned, vars: Map<String, String> = env(source)) =
        ManagedIdentityApplication(
            id,
            ManagedIdentityConfig(environment = vars, arcKeyDirectory = info.getString("arc_key_directory")),
        )

    @Test
    fun everySourceIssuesATokenThenAnswersFromTheCache() = runBlocking<Unit> {
        for ((name, source) in sources) {
            val app = app(name)
            assertEquals(source, app.source, name)
            val first = app.acquireTokenForClient(RESOURCE)
            assertFalse(first.fromCache, name)
            assertEquals(RESOURCE, first.resource, name)
            assertEquals(source, first.source, name)
            assertTrue(first.refreshOn != null, name)
            val again = app.acquireTokenForClientBlocking(RESOURCE)
            assertTrue(again.fromCache, name)
            assertEquals("cache", JSONObject(again.pythonJson).getString("token_source"))
        }
    }

    @Test
    fun userAssignedByEachIdWhereTheSourceHasThem() = runBlocking<Unit> {
        val user = info.getJSONObject("user_assigned")
        for (name in listOf("imds", "app_service", "machine_learning", "azure_arc")) {
            for (id in listOf(
                ManagedIdentityId.ClientId(user.getString("client_id")),
                ManagedIdentityId.ResourceId(user.getString("resource_id")),
                ManagedIdentityId.ObjectId(user.getString("object_id")),
            )) {
                assertFalse(app(name, id).acquireTokenForClient(RESOURCE).fromCache, "$name $id")
            }
        }
        val e = assertThrows<ManagedIdentityException> {
            app("cloud_shell", ManagedIdentityId.ClientId("c")).acquireTokenForClientBlocking(RESOURCE)
        }
        assertEquals(ManagedIdentitySource.CLOUD_SHELL, e.source)
        assertEquals("user_assigned_managed_identity_not_supported", e.errorCode)
        assertInstanceOf(ClientException::class.java, e.error)
    }

    @Test
    fun refusalsCarryTheSourceAndTheKindSpecificCause() {
        for ((name, source) in sources) {
            val e = assertThrows<ManagedIdentityException> { app(name).acquireTokenForClientBlocking("not a resource") }
            assertEquals(source, e.source, name)
            assertInstanceOf(ServiceException::class.java, e.error, name)
            assertEquals(400, (e.error as ServiceException).statusCode, name)
        }
        val closed = ServerSocket(0).use { it.localPort }
        val port = em.base.substringAfterLast(':')
        for (name in sources.keys) {
            val vars = env(name).mapValues { (_, v) -> v.replace(":$port", ":$closed") }
            val e = assertThrows<ManagedIdentityException> { app(name, vars = vars).acquireTokenForClientBlocking(RESOURCE) }
            assertEquals("cannot_connect_to_host", e.errorCode, name)
            assertInstanceOf(ClientException::class.java, e.error, name)
        }
        val bad = env("app_service") + ("IDENTITY_ENDPOINT" to "::not a url::")
        val e = assertThrows<ManagedIdentityException> { app("app_service", vars = bad).acquireTokenForClientBlocking(RESOURCE) }
        assertEquals("invalid_managed_identity_endpoint", e.errorCode)
        assertEquals(dev.idflow.ffi.RecommendedAction.FixConfiguration::class, e.action::class)
    }

    private companion object {
        const val RESOURCE = "https://management.azure.com"
    }
}
