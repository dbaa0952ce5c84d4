// A web app (the JDK's own HTTP server) that signs users in with the
// authorization code flow. The started flow goes into the session as JSON
// (AuthCodeFlow.toJson) when the user starts signing in, and whichever worker
// receives the redirect completes it (authCodeFlowFromJson). Workers share
// nothing but the session store.
//
//   java -cp target/idflow-example-1.0.jar example.WebAppKt 5001   # worker A
//   java -cp target/idflow-example-1.0.jar example.WebAppKt 5002   # worker B
//
// Configuration from the environment: IDFLOW_AUTHORITY, IDFLOW_CLIENT_ID,
// IDFLOW_CLIENT_SECRET, IDFLOW_REDIRECT_URI (ending in /callback),
// IDFLOW_SESSION_DIR (the store the workers share), IDFLOW_SCOPE.
//
// The session is kept on the server (files named by the session id; the
// cookie holds only the id): the flow holds the PKCE verifier, which must
// never travel in a cookie.

package example

import com.sun.net.httpserver.HttpExchange
import com.sun.net.httpserver.HttpServer
import dev.idflow.ClientException
import dev.idflow.ConfidentialClientApplication
import dev.idflow.IdFlowException
import dev.idflow.authCodeFlowFromJson
import dev.idflow.ffi.ClientCredential
import java.net.InetSocketAddress
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.security.SecureRandom

private val sessions: Path = Path.of(System.getenv("IDFLOW_SESSION_DIR") ?: System.getProperty("java.io.tmpdir"))
private val scopes = listOf(System.getenv("IDFLOW_SCOPE") ?: "https://graph.microsoft.com/User.Read")

/** The session id from the cookie, when it names one this store could hold. */
private fun sessionId(x: HttpExchange): String? =
    x.requestHeaders["Cookie"].orEmpty().flatMap { it.split(";") }.map { it.trim() }
        .firstOrNull { it.startsWith("sid=") }?.removePrefix("sid=")
        ?.takeIf { id -> id.isNotEmpty() && id.all { it.isLetterOrDigit() } }

private fun read(sid: String?, key: String): String? =
    sid?.let { sessions.resolve("$it.$key") }?.takeIf { Files.exists(it) }?.let { Files.readString(it) }

private fun write(sid: String, key: String, value: String?) {
    val path = sessions.resolve("$sid.$key")
    if (value == null) {
        Files.deleteIfExists(path)
        return
    }
    val tmp = sessions.resolve("$sid.$key.tmp")
    Files.writeString(tmp, value)
    Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
}

private fun newSessionId(): String =
    ByteArray(16).also { SecureRandom().nextBytes(it) }.joinToString("") { "%02x".format(it) }

private fun reply(x: HttpExchange, status: Int, body: String = "", location: String? = null, sid: String? = null) {
    if (location != null) x.responseHeaders.add("Location", location)
    if (sid != null) x.responseHeaders.add("Set-Cookie", "sid=$sid; HttpOnly; SameSite=Lax; Path=/")
    val bytes = body.toByteArray()
    x.sendResponseHeaders(status, if (bytes.isEmpty()) -1 else bytes.size.toLong())
    if (bytes.isNotEmpty()) x.responseBody.use { it.write(bytes) }
    x.close()
}

private fun query(x: HttpExchange): String = x.requestURI.rawQuery.orEmpty()

fun main(args: Array<String>) {
    val port = args.firstOrNull()?.toInt() ?: 5001
    val app = ConfidentialClientApplication(
        System.getenv("IDFLOW_CLIENT_ID"),
        System.getenv("IDFLOW_AUTHORITY"),
        ClientCredential.Secret(System.getenv("IDFLOW_CLIENT_SECRET")),
    )
    val server = HttpServer.create(InetSocketAddress("127.0.0.1", port), 0)
    server.createContext("/") { x ->
        val user = read(sessionId(x), "user")
        if (user != null) reply(x, 200, "signed in as $user (worker $port)\n")
        else reply(x, 401, "not signed in: visit /login\n")
    }
    server.createContext("/login") { x ->
        val sid = sessionId(x) ?: newSessionId()
        try {
            val flow = app.initiateAuthCodeFlowBlocking(scopes, System.getenv("IDFLOW_REDIRECT_URI"))
            write(sid, "flow", flow.toJson())
            reply(x, 302, location = flow.authUri(), sid = sid)
        } catch (e: IdFlowException) {
            reply(x, 502, "cannot start the sign-in: ${e.errorCode}\n")
        }
    }
    server.createContext("/callback") { x ->
        val sid = sessionId(x)
        // Taken out of the session before use: a flow is redeemed once.
        val flowJson = read(sid, "flow")
        if (sid != null) write(sid, "flow", null)
        if (sid == null || flowJson == null) {
            reply(x, 400, "sign-in refused: no sign-in in progress in this session\n")
            return@createContext
        }
        try {
            val result = app.acquireTokenByAuthCodeFlowBlocking(authCodeFlowFromJson(flowJson), query(x))
            write(sid, "user", result.account?.username ?: "?")
            reply(x, 302, location = "/", sid = sid)
        } catch (e: ClientException) {
            // state_mismatch: not an answer to this session's request (forged or replayed).
            reply(x, 400, "sign-in refused: ${e.errorCode}\n")
        } catch (e: IdFlowException) {
            reply(x, 401, "sign-in failed: ${e.errorCode}\n")
        }
    }
    server.start()
    System.err.println("listening on 127.0.0.1:$port")
}
