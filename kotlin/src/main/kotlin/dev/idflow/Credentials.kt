// Client credentials in the forms a JVM app keeps them: a PKCS#12 file or
// its bytes, a java.security.PrivateKey with its X509Certificate (chain), an
// entry of a KeyStore, a callback asked for an assertion before each request
// (a lambda, as MSAL for Java's ClientCredentialFactory.createFromCallback),
// and workload identity federation's token file. The core loads and checks
// the key (a wrong password or a key that is not the certificate's throws
// ClientException with certificate_password_incorrect /
// certificate_key_mismatch when the application is built).

@file:JvmName("IdFlowCredentials")

package dev.idflow

import dev.idflow.ffi.ClientAssertionCallback
import dev.idflow.ffi.ClientCredential
import java.nio.file.Files
import java.nio.file.Path
import java.security.KeyStore
import java.security.PrivateKey
import java.security.cert.X509Certificate
import java.util.Base64

/** Builds [ClientCredential]s, as MSAL for Java's `ClientCredentialFactory` does. */
object ClientCredentials {
    /** A PKCS#12 (.pfx / .p12) file's bytes and its password (`null` for none). */
    @JvmStatic
    @JvmOverloads
    fun fromPkcs12(pfx: ByteArray, password: String?, sendX5c: Boolean = false): ClientCredential =
        ClientCredential.Pkcs12(pfx, password, sendX5c, true)

    /** A PKCS#12 file on disk. */
    @JvmStatic
    @JvmOverloads
    fun fromPkcs12File(path: Path, password: String?, sendX5c: Boolean = false): ClientCredential =
        fromPkcs12(Files.readAllBytes(path), password, sendX5c)

    /**
     * An RSA [PrivateKey] and its certificate chain (leaf first); `sendX5c`
     * sends the chain for subject name / issuer authentication.
     */
    @JvmStatic
    @JvmOverloads
    fun fromCertificate(
        key: PrivateKey,
        chain: List<X509Certificate>,
        sendX5c: Boolean = false,
    ): ClientCredential {
        require(chain.isNotEmpty()) { "the certificate chain is empty" }
        val encoded = key.encoded ?: throw IllegalArgumentException(
            "the private key cannot be exported (a hardware-backed key); export it as PKCS#12 instead",
        )
        require(key.format == "PKCS#8") { "the private key is ${key.format}, not PKCS#8" }
        val certificates = chain.joinToString("") { pem("CERTIFICATE", it.encoded) }
        return ClientCredential.PrivateKey(pem("PRIVATE KEY", encoded), null, certificates, null, sendX5c, true)
    }

    /** An RSA [PrivateKey] and its certificate. */
    @JvmStatic
    @JvmOverloads
    fun fromCertificate(key: PrivateKey, certificate: X509Certificate, sendX5c: Boolean = false): ClientCredential =
        fromCertificate(key, listOf(certificate), sendX5c)

    /** The key entry `alias` of a [KeyStore] (PKCS12, JKS, ...) and its chain. */
    @JvmStatic
    @JvmOverloads
    fun fromKeyStore(store: KeyStore, alias: String, password: CharArray?, sendX5c: Boolean = false): ClientCredential {
        val key = store.getKey(alias, password) as? PrivateKey
            ?: throw IllegalArgumentException("the key store has no private key under '$alias'")
        val chain = store.getCertificateChain(alias)?.map { it as X509Certificate }
            ?: throw IllegalArgumentException("the key store has no certificate chain under '$alias'")
        return fromCertificate(key, chain, sendX5c)
    }

    /**
     * An assertion from [callback] before each token request (given the
     * client id and the token endpoint, its `aud`). A thrown exception ends
     * the request with `client_assertion_unavailable`.
     */
    @JvmStatic
    fun fromCallback(callback: (clientId: String, tokenEndpoint: String) -> String): ClientCredential =
        ClientCredential.AssertionCallback(
            object : ClientAssertionCallback {
                override fun clientAssertion(clientId: String, tokenEndpoint: String): String =
                    callback(clientId, tokenEndpoint)
            },
        )

    /**
     * Workload identity federation: the token in [path], or in the file
     * `AZURE_FEDERATED_TOKEN_FILE` names when `null`, read before each request.
     */
    @JvmStatic
    @JvmOverloads
    fun fromFederatedTokenFile(path: String? = null): ClientCredential = ClientCredential.FederatedTokenFile(path)

    private fun pem(label: String, der: ByteArray): String =
        "-----BEGIN $label-----\n" + Base64.getMimeEncoder(64, "\n".toByteArray()).encodeToString(der) +
            "\n-----END $label-----\n"
}
