package dev.idflow

import dev.idflow.ffi.ClientCredential
import dev.idflow.ffi.ManagedIdentityConfig
import dev.idflow.ffi.ManagedIdentitySource
import dev.idflow.ffi.ManagedIdentityTokenResult
import dev.idflow.ffi.PartitionData
import dev.idflow.ffi.RedisCacheOptions
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.ByteArrayOutputStream
import java.io.PrintStream

/**
 * Every value that holds a secret, formatted every way Kotlin formats a value: the
 * secret never appears, the other fields still do, and the field itself still
 * gives the secret to a caller who asks for it.
 */
class RedactionTest {
    private val secrets =
        listOf(
            "at-SECRET-access", "rt-SECRET-refresh", "it-SECRET-id", "pj-SECRET-json", "cs-SECRET-client",
            "pk-SECRET-key", "ca-SECRET-assertion", "rj-SECRET-result", "claims-SECRET-pii",
        )

    private val account = AccountInfo("uid.utid", "login.example", "utid", "ada@example.com", "uid")

    private val token =
        TokenResult(
            accessToken = "at-SECRET-access",
            tokenType = "Bearer",
            expiresOn = 1_900_000_000,
            scopes = listOf("User.Read"),
            refreshToken = "rt-SECRET-refresh",
            idToken = "it-SECRET-id",
            idTokenClaimsJson = "{\"name\":\"claims-SECRET-pii\"}",
            account = account,
            correlationId = "corr-visible",
            tokenSource = TokenSource.IDENTITY_PROVIDER,
            refreshOn = null,
            familyId = "1",
            pythonJson = "{\"access_token\":\"pj-SECRET-json\"}",
        )

    private val credentials =
        listOf(
            ClientCredential.Secret("cs-SECRET-client"),
            ClientCredential.SecretBasic("cs-SECRET-client"),
            ClientCredential.Certificate("-----BEGIN CERTIFICATE-----", "pk-SECRET-key", true),
            ClientCredential.Assertion("ca-SECRET-assertion"),
            ClientCredential.Pkcs12("pfx-SECRET-bytes".toByteArray(), "pw-SECRET-pass", true, true),
            ClientCredential.PrivateKey("pk-SECRET-key", "pp-SECRET-pass", null, "AB12", false, true),
        )

    private val classified = Classified(Outcome.SUCCESS, null, null, "{\"access_token\":\"rj-SECRET-result\"}")

    private fun forms(value: Any): List<String> {
        val printed = ByteArrayOutputStream()
        val out = System.out
        System.setOut(PrintStream(printed, true, "UTF-8"))
        try {
            println(value)
            println(listOf(value))
        } finally {
            System.setOut(out)
        }
        return listOf(value.toString(), "$value", "${listOf(value)}", String.format("%s", value), printed.toString("UTF-8"))
    }

    private fun assertNoSecret(value: Any) {
        for (form in forms(value)) {
            for (secret in secrets) assertFalse(form.contains(secret), "$secret in: $form")
            assertTrue(form.contains("[redacted]"), form)
        }
    }

    @Test
    fun tokenResultShowsItsFieldsButNotItsTokens() {
        assertNoSecret(token)
        assertNoSecret(token.copy(refreshToken = null, idToken = null))
        val text = token.toString()
        for (visible in listOf("Bearer", "1900000000", "User.Read", "corr-visible", "ada@example.com")) {
            assertTrue(text.contains(visible), "$visible missing from $text")
        }
        assertEquals("at-SECRET-access", token.accessToken)
        assertEquals("rt-SECRET-refresh", token.refreshToken)
    }

    @Test
    fun clientCredentialsNameTheirKindButNotTheSecret() {
        for (c in credentials) {
            assertNoSecret(c)
            assertTrue(c.toString().contains(c.javaClass.simpleName), c.toString())
        }
        assertEquals("cs-SECRET-client", (credentials[0] as ClientCredential.Secret).secret)
        val app = ConfidentialClientApplication("client", "https://login.microsoftonline.com/common", credentials[0])
        for (form in forms(app)) assertFalse(form.contains("cs-SECRET-client"), form)
    }

    @Test
    fun classifiedShowsTheOutcomeButNotTheResult() {
        assertNoSecret(classified)
        assertTrue(classified.toString().contains("Success"), classified.toString())
        assertTrue(classified.resultJson!!.contains("rj-SECRET-result"))
    }

    private val credentialsInRecords =
        listOf(
            "pw-SECRET-proxy", "ih-SECRET-header", "ms-SECRET-msi", "Basic Y2xpZW50OmNzLVNFQ1JFVA==",
            "fv-SECRET-form", "at-SECRET-access", "pj-SECRET-json",
        )

    private fun assertNoCredential(value: Any) {
        for (form in forms(value)) {
            for (secret in credentialsInRecords) assertFalse(form.contains(secret), "$secret in: $form")
        }
    }

    @Test
    fun appConfigShowsItsProxiesWithoutTheirPassword() {
        val config =
            AppConfig(
                clientId = "client-visible",
                authority = "https://login.microsoftonline.com/common",
                proxies = mapOf("https" to "http://ada:pw-SECRET-proxy@proxy.example:3128", "no_proxy" to "localhost"),
            )
        assertNoCredential(config)
        assertTrue(config.toString().contains("proxy.example:3128"), config.toString())
        assertTrue(config.toString().contains("client-visible"), config.toString())
        assertEquals("http://ada:pw-SECRET-proxy@proxy.example:3128", config.proxies["https"])
    }

    @Test
    fun recordsCrossingTheBoundaryPrintWithoutTheirSecrets() {
        val values: List<Any> =
            listOf(
                ManagedIdentityConfig(
                    environment =
                        mapOf(
                            "IDENTITY_ENDPOINT" to "http://127.0.0.1:1/msi",
                            "IDENTITY_HEADER" to "ih-SECRET-header",
                            "MSI_SECRET" to "ms-SECRET-msi",
                        ),
                ),
                Header("Authorization", "Basic Y2xpZW50OmNzLVNFQ1JFVA=="),
                FormField("client_secret", "fv-SECRET-form"),
                HttpClientResponse(200.toUShort(), listOf(), "{\"access_token\":\"at-SECRET-access\"}".toByteArray()),
                PartitionData("at-SECRET-access".toByteArray(), "v7"),
                RedisCacheOptions(encryptionKey = ByteArray(32)),
                ManagedIdentityTokenResult(
                    "at-SECRET-access", "Bearer", 1_900_000_000, 3600.toULong(), "https://vault.azure.net", null, false,
                    ManagedIdentitySource.IMDS, "corr-visible", "{\"access_token\":\"pj-SECRET-json\"}",
                ),
            )
        for (value in values) {
            assertNoCredential(value)
            assertTrue(value.toString().contains(value.javaClass.simpleName), value.toString())
        }
        assertTrue(values[0].toString().contains("IDENTITY_HEADER"), values[0].toString())
        assertTrue(values[2].toString().contains("client_secret"), values[2].toString())
        assertTrue(values[6].toString().contains("vault.azure.net"), values[6].toString())
        assertEquals("fv-SECRET-form", (values[2] as FormField).value)
    }
}
