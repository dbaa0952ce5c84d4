// The app's own HTTP stack under idflow: the generated HttpClient callback
// interface under its public name, and an adapter over the JDK's
// java.net.http.HttpClient. Set AppConfig(httpClient = ...) and every request
// of every flow (discovery, token, device code) goes through it; idflow's
// retry and throttling run on top unchanged.

package dev.idflow

import com.sun.jna.Native
import dev.idflow.ffi.HttpClientException
import java.io.IOException
import java.net.ConnectException
import java.net.NoRouteToHostException
import java.net.URI
import java.net.UnknownHostException
import java.net.http.HttpConnectTimeoutException
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.net.http.HttpTimeoutException
import java.time.Duration
import javax.net.ssl.SSLException

/**
 * Implement it over your HTTP stack (see [JavaNetHttpClient]); Java callers implement `dev.idflow.ffi.HttpClient`.
 * Read the request with `request.parts()`: one native call, where each of its other methods is one of its own.
 */
typealias HttpClient = dev.idflow.ffi.HttpClient
typealias HttpClientRequest = dev.idflow.ffi.HttpClientRequest
typealias HttpClientRequestParts = dev.idflow.ffi.HttpClientRequestParts
typealias HttpClientResponse = dev.idflow.ffi.HttpClientResponse
typealias FormField = dev.idflow.ffi.FormField

/**
 * The network kind of a JVM exception (java.net, javax.net.ssl, OkHttp's
 * `java.io` ones), for an adapter to throw as [HttpClientException.Failed].
 * Its message is the exception's class and message: adapters must not add
 * the request body (it holds secrets).
 */
fun httpClientFailure(e: Throwable): HttpClientException.Failed {
    val kind = when (e) {
        is HttpConnectTimeoutException, is HttpTimeoutException, is java.net.SocketTimeoutException,
        is java.io.InterruptedIOException -> NetworkKind.TIMEOUT
        is SSLException -> NetworkKind.TLS
        is UnknownHostException -> NetworkKind.DNS
        is ConnectException -> NetworkKind.CONNECTION_REFUSED
        is NoRouteToHostException -> NetworkKind.NOT_CONNECTED
        else -> if (e.cause is ConnectException) NetworkKind.CONNECTION_REFUSED else NetworkKind.CONNECTION_LOST
    }
    return HttpClientException.Failed(kind, "${e.javaClass.simpleName}: ${e.message}")
}

/**
 * idflow's transport over the JDK's `java.net.http.HttpClient`: redirects
 * are not followed (the JDK's default), each request gets idflow's timeout,
 * and a failure is thrown with its network kind. Pass your own configured
 * client (proxy, SSL context, authenticator) to use them.
 */
class JavaNetHttpClient(
    private val client: java.net.http.HttpClient = java.net.http.HttpClient.newBuilder()
        .followRedirects(java.net.http.HttpClient.Redirect.NEVER)
        .version(java.net.http.HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .build(),
) : HttpClient {
    override fun send(request: HttpClientRequest): HttpClientResponse {
        // One native call for the whole request (five, one per method, cost ≈ 0.1 ms).
        val parts = request.parts()
        val builder = HttpRequest.newBuilder(URI.create(parts.url))
            .timeout(Duration.ofMillis(parts.timeoutMs.toLong()))
        for (h in parts.headers) builder.header(h.name, h.value)
        if (parts.method == "POST") {
            builder.POST(HttpRequest.BodyPublishers.ofByteArray(parts.body))
        } else {
            builder.GET()
        }
        val response = try {
            client.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray())
        } catch (e: IOException) {
            throw httpClientFailure(e)
        } catch (e: InterruptedException) {
            Thread.currentThread().interrupt()
            throw httpClientFailure(e)
        }
        val headers = response.headers().map().flatMap { (name, values) -> values.map { Header(name, it) } }
        return HttpClientResponse(response.statusCode().toUShort(), headers, response.body())
    }
}

/**
 * The app's [HttpClient] as every app hands it to the core. The core calls it
 * on a thread of its own (its blocking pool), which JNA attaches to the JVM
 * for the call and, by default, detaches again when the call returns: every
 * request then made a new `java.lang.Thread` for the same native thread, and
 * the core's answer to the coroutine waiting on it left from a thread about
 * to detach (≈ 0.13 ms of a 0.55 ms hop, measured). Kept attached, a pool
 * thread serves its next requests as the same JVM thread (a daemon); JNA
 * detaches it when the pool ends it (after 10 s idle).
 */
internal class AttachedHttpClient(private val client: HttpClient) : HttpClient {
    override fun send(request: HttpClientRequest): HttpClientResponse {
        Native.detach(false)
        return client.send(request)
    }

    override fun toString(): String = client.toString()
}

/** [config] with its HTTP client (if any) kept attached to the JVM between calls. */
internal fun withAttachedHttpClient(config: AppConfig): AppConfig =
    when (val client = config.httpClient) {
        null, is AttachedHttpClient -> config
        else -> config.copy(httpClient = AttachedHttpClient(client))
    }
