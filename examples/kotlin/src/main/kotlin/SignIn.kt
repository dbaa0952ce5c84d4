// Sign in with idflow and handle every kind of failure the way the MSAL error
// guide recommends.
//
//   java -jar target/idflow-example-1.0.jar client-credentials   # an app-only token
//   java -jar target/idflow-example-1.0.jar device-code          # a user signs in elsewhere
//
// Configuration from the environment: IDFLOW_AUTHORITY, IDFLOW_CLIENT_ID,
// IDFLOW_CLIENT_SECRET (client credentials), IDFLOW_SCOPE, IDFLOW_SIGNIN_TIMEOUT.

package example

import dev.idflow.CancelHandle
import dev.idflow.ClientException
import dev.idflow.ConfidentialClientApplication
import dev.idflow.ErrorKind
import dev.idflow.IdFlowException
import dev.idflow.InteractionRequiredException
import dev.idflow.PublicClientApplication
import dev.idflow.ServiceException
import dev.idflow.ThrottlingException
import dev.idflow.TokenResult
import dev.idflow.ffi.ClientCredential
import java.io.IOException
import java.util.Timer
import kotlin.concurrent.schedule
import kotlin.system.exitProcess

fun env(name: String): String = System.getenv(name) ?: error("set $name")

/** A device-code sign-in that gives up after IDFLOW_SIGNIN_TIMEOUT seconds. */
fun deviceCode(app: PublicClientApplication, scopes: List<String>, claims: String? = null): TokenResult {
    val flow = app.initiateDeviceFlowBlocking(scopes, claims)
    System.err.println(flow.message())
    val cancel = CancelHandle()
    val timer = Timer(true)
    timer.schedule((System.getenv("IDFLOW_SIGNIN_TIMEOUT") ?: "300").toLong() * 1000) { cancel.cancel() }
    try {
        return app.acquireTokenByDeviceFlowBlocking(flow, cancel)
    } finally {
        timer.cancel()
    }
}

fun signedIn(token: TokenResult) {
    val expiresIn = token.expiresOn - System.currentTimeMillis() / 1000
    println("signed in: token from ${token.tokenSource.name.lowercase()}, expires in $expiresIn s")
}

/** What the app does for each failure; returns the claims to sign in again with, if it should. */
fun handle(e: IdFlowException): String? {
    when (e) {
        is InteractionRequiredException -> {
            // Only the user can fix this: sign in interactively, with the claims challenge if any.
            val with = if (e.claims != null) " with the claims" else ""
            println("interaction required (${e.reason.name.lowercase()}, ${e.errorCode}): signing in interactively$with")
            return e.claims ?: ""
        }
        // Catch before ServiceException: blocked locally, nothing was sent.
        is ThrottlingException -> println("throttled: blocked locally, wait ${e.retryInMs / 1000} s")
        is ServiceException -> when {
            e.retryAfterMs != null -> println("service error ${e.errorCode}: retry after ${e.retryAfterMs!! / 1000} s")
            e.isRetryable -> println("service error ${e.errorCode}: retry later")
            else -> println("service error ${e.errorCode}: fix the configuration: ${e.mitigation}")
        }
        is ClientException -> when {
            e.info.kind == ErrorKind.CANCELLED -> println("cancelled (${e.errorCode}): stopping quietly")
            // No answer: the cause is the java.net exception.
            e.cause is IOException -> println("network error ${e.errorCode}: check the connection, retry later")
            else -> println("client error ${e.errorCode}: fix the call: ${e.mitigation}")
        }
        else -> println("error ${e.errorCode}: ${e.mitigation}")
    }
    return null
}

fun main(args: Array<String>) {
    val mode = args.singleOrNull()
    if (mode != "client-credentials" && mode != "device-code") {
        System.err.println("usage: SignIn client-credentials|device-code")
        exitProcess(2)
    }
    val ok = try {
        if (mode == "client-credentials") {
            ConfidentialClientApplication(
                env("IDFLOW_CLIENT_ID"), env("IDFLOW_AUTHORITY"),
                ClientCredential.Secret(env("IDFLOW_CLIENT_SECRET")),
            ).use { app ->
                val scope = System.getenv("IDFLOW_SCOPE") ?: "https://graph.microsoft.com/.default"
                signedIn(app.acquireTokenForClientBlocking(listOf(scope)))
            }
        } else {
            PublicClientApplication(env("IDFLOW_CLIENT_ID"), env("IDFLOW_AUTHORITY")).use { app ->
                val scopes = listOf(System.getenv("IDFLOW_SCOPE") ?: "User.Read")
                try {
                    signedIn(deviceCode(app, scopes))
                } catch (e: IdFlowException) {
                    val claims = handle(e) ?: throw Handled()
                    // The interactive sign-in, once (device code is this console app's interactive flow).
                    signedIn(deviceCode(app, scopes, claims.ifEmpty { null }))
                }
            }
        }
        true
    } catch (e: Handled) {
        false
    } catch (e: IdFlowException) {
        handle(e)
        false
    }
    exitProcess(if (ok) 0 else 1)
}

/** The failure was already reported. */
class Handled : RuntimeException()
