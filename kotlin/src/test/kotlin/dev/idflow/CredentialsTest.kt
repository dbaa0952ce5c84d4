package dev.idflow

import dev.idflow.Emulator.Companion.APP_SCOPE
import dev.idflow.Emulator.Companion.CONFIDENTIAL_CLIENT
import dev.idflow.Emulator.Companion.TENANT
import dev.idflow.ffi.AuthException
import dev.idflow.ffi.ClientCredential
import java.io.ByteArrayInputStream
import java.io.ByteArrayOutputStream
import java.nio.file.Files
import java.security.KeyFactory
import java.security.KeyStore
import java.security.PrivateKey
import java.security.cert.CertificateFactory
import java.security.cert.X509Certificate
import java.security.spec.PKCS8EncodedKeySpec
import java.util.Base64
import kotlinx.coroutines.runBlocking
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.fail

/** Certificates from java.security objects, a KeyStore and PFX bytes; assertions from a lambda and a token file. */
class CredentialsTest {
    private lateinit var em: Emulator
    private lateinit var key: PrivateKey
    private lateinit var cert: X509Certificate

    @BeforeEach
    fun setUp() {
        em = Servers.emulator()
        em.reset()
        // The emulator generates the pair and registers the certificate for the client.
        val generated = em.createCertificate(CONFIDENTIAL_CLIENT)
        key = KeyFactory.getInstance("RSA").generatePrivate(PKCS8EncodedKeySpec(der(generated.getString("private_key_pem"))))
        cert = CertificateFactory.getInstance("X.509")
            .generateCertificate(ByteArrayInputStream(generated.getString("certificate_pem").toByteArray())) as X509Certificate
    }

    private fun der(pem: String): ByteArray =
        Base64.getMimeDecoder().decode(pem.lines().filter { !it.startsWith("-----") }.joinToString(""))

    private fun app(credential: ClientCredential) = ConfidentialClientApplication(CONFIDENTIAL_CLIENT, em.authority(TENANT), credential)

    private fun lastHeader(): JSONObject =
        em.requests().last { it.optString("endpoint") == "token" }.getJSONObject("client_assertion_header")

    private fun pfx(password: String): ByteArray {
        val store = KeyStore.getInstance("PKCS12")
        store.load(null, null)
        store.setKeyEntry("client", key, password.toCharArray(), arrayOf(cert))
        return ByteArrayOutputStream().also { store.store(it, password.toCharArray()) }.toByteArray()
    }

    private inline fun <reified T : Throwable> throws(noinline block: suspend () -> Unit): T {
        val e = assertThrows<Throwable> { runBlocking { block() } }
        if (e is AuthException) fail("the generated AuthException escaped: $e")
        return assertInstanceOf(T::class.java, e, "got $e")
    }

    @Test
    fun privateKeyAndCertificateSignPs256() = runBlocking {
        assertTrue(app(ClientCredentials.fromCertificate(key, cert)).acquireTokenForClient(APP_SCOPE).accessToken.isNotEmpty())
        val h = lastHeader()
        assertEquals("PS256", h.getString("alg"))
        assertTrue(h.has("x5t#S256"))
        assertFalse(h.has("x5c"))
    }

    @Test
    fun keyStoreEntryAndPfxBytesWithX5c() = runBlocking {
        val password = "kotlin-pfx-password"
        val bytes = pfx(password)
        val store = KeyStore.getInstance("PKCS12").apply { load(ByteArrayInputStream(bytes), password.toCharArray()) }
        app(ClientCredentials.fromKeyStore(store, "client", password.toCharArray(), sendX5c = true)).acquireTokenForClient(APP_SCOPE)
        assertEquals(1, lastHeader().getJSONArray("x5c").length())
        app(ClientCredentials.fromPkcs12(bytes, password)).acquireTokenForClient(APP_SCOPE, claims = null)
        assertEquals("PS256", lastHeader().getString("alg"))
        val file = Files.createTempFile("client", ".pfx")
        try {
            Files.write(file, bytes)
            assertTrue(app(ClientCredentials.fromPkcs12File(file, password)).acquireTokenForClient(APP_SCOPE).accessToken.isNotEmpty())
        } finally {
            Files.delete(file)
        }
    }

    @Test
    fun wrongPasswordAndMismatchedKeyAreClientExceptions() {
        val wrong = throws<ClientException> { app(ClientCredentials.fromPkcs12(pfx("right"), "wrong")) }
        assertEquals("certificate_password_incorrect", wrong.errorCode)
        assertFalse(wrong.toString().contains("wrong\""))
        val otherKey = java.security.KeyPairGenerator.getInstance("RSA").apply { initialize(2048) }.generateKeyPair().private
        val mismatch = throws<ClientException> { app(ClientCredentials.fromCertificate(otherKey, cert)) }
        assertEquals("certificate_key_mismatch", mismatch.errorCode)
    }

    /** Registers a client trusting the emulator's federated tokens about [subject]; returns its id. */
    private fun federatedClient(subject: String): String {
        val issuer = JSONObject(em.request("POST", "/_admin/federated-token", JSONObject().put("subject", subject))).getString("issuer")
        val client = "5a1b2c3d-0000-4000-8000-00000000f0ed"
        em.request(
            "POST", "/_admin/clients",
            JSONObject().put("client_id", client).put("confidential", true)
                .put("federated_credentials", listOf(JSONObject().put("issuer", issuer).put("subject", subject))),
        )
        return client
    }

    private fun mint(subject: String): String =
        JSONObject(em.request("POST", "/_admin/federated-token", JSONObject().put("subject", subject))).getString("token")

    @Test
    fun aLambdaIsAskedBeforeEachRequest() = runBlocking {
        val subject = "system:serviceaccount:default:lambda"
        val client = federatedClient(subject)
        val seen = mutableListOf<Pair<String, String>>()
        val credential = ClientCredentials.fromCallback { clientId, endpoint ->
            seen += clientId to endpoint
            mint(subject)
        }
        val app = ConfidentialClientApplication(client, em.authority(TENANT), credential)
        app.acquireTokenForClient(listOf("https://graph.microsoft.com/.default"))
        app.acquireTokenForClient(listOf("api://$client/.default"))
        assertEquals(2, seen.size)
        assertEquals(client, seen[0].first)
        assertTrue(seen[0].second.endsWith("/oauth2/v2.0/token"), seen[0].second)
        val failing = ClientCredentials.fromCallback { _, _ -> throw IllegalStateException("source down") }
        val down = throws<ClientException> {
            ConfidentialClientApplication(client, em.authority(TENANT), failing).acquireTokenForClient(APP_SCOPE)
        }
        assertEquals("client_assertion_unavailable", down.errorCode)
    }

    @Test
    fun federatedTokenFileIsReadBeforeEachRequest() = runBlocking {
        val subject = "system:serviceaccount:default:kotlin"
        val client = federatedClient(subject)
        val file = Files.createTempFile("azure-identity-token", "")
        try {
            val app = ConfidentialClientApplication(client, em.authority(TENANT), ClientCredentials.fromFederatedTokenFile(file.toString()))
            Files.writeString(file, mint(subject))
            assertTrue(app.acquireTokenForClient(listOf("https://graph.microsoft.com/.default")).accessToken.isNotEmpty())
            Files.writeString(file, mint("system:serviceaccount:default:someone-else"))
            val e = throws<ServiceException> { app.acquireTokenForClient(listOf("api://$client/.default")) }
            assertEquals("invalid_client", e.errorCode)
        } finally {
            Files.delete(file)
        }
    }
}
