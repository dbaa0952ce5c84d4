// The one translation point: the generated AuthException (and uniffi's own
// InternalException) becomes the IdFlowException the core chose. Every
// hand-written call into dev.idflow.ffi goes through one of these.

package dev.idflow

import com.sun.jna.CallbackThreadInitializer
import com.sun.jna.Native
import dev.idflow.ffi.AuthException
import dev.idflow.ffi.InternalException
import java.util.concurrent.CompletableFuture
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.future.future
import kotlinx.coroutines.runBlocking
import kotlin.coroutines.cancellation.CancellationException

/**
 * Runs [call], rethrowing the generated exceptions as the hierarchy. Inline, so
 * [call] may suspend when the caller does.
 */
internal inline fun <T> translated(call: () -> T): T =
    try {
        NativeThreads.ready()
        call()
    } catch (e: AuthException) {
        throw e.info.toException()
    } catch (e: InternalException) {
        throw internalError(e)
    }

/**
 * JNA attaches a native thread to the JVM for each callback made on it and, by
 * default, detaches it after. A suspended call is resumed by the core's
 * continuation callback from a thread of the core's (its I/O driver, its
 * blocking pool), so every resumption made and ended a `java.lang.Thread`
 * (≈ 50–120 µs of a token request, measured). JNA reads a callback's thread
 * initializer when the callback first crosses (the first suspended call):
 * [translated] makes sure it is set by then. The threads stay attached as
 * daemons named `idflow-native`; JNA detaches each when its native thread ends.
 */
internal object NativeThreads {
    init {
        Native.setCallbackThreadInitializer(
            dev.idflow.ffi.uniffiRustFutureContinuationCallbackImpl,
            CallbackThreadInitializer(true, false, THREAD_NAME),
        )
    }

    const val THREAD_NAME = "idflow-native"

    /** Runs the initializer above once; nothing after that. */
    fun ready() = Unit
}

/** uniffi's own failure (a panic it caught, a callback that threw): idflow's `internal_error`. */
internal fun internalError(e: InternalException): IdFlowException {
    val info = dev.idflow.ffi.explain("internal_error")
    return ClientException(info.copy(message = "${info.message} (${e.message})"), e)
}

/**
 * Runs [call] so that cancelling the coroutine also fires [cancel] (the core
 * then stops polling or listening at once) and surfaces as
 * [CancellationException], never as `user_cancelled`.
 */
internal suspend inline fun <T> cancellable(cancel: CancelHandle, call: () -> T): T =
    try {
        translated(call)
    } catch (e: CancellationException) {
        cancel.cancel()
        throw e
    } catch (e: IdFlowException) {
        // The coroutine was cancelled while the core was already ending with
        // user_cancelled: report the cancellation, as coroutines do.
        currentCoroutineContext().ensureActive()
        throw e
    }

/** A suspending call, blocking the calling thread (the `…Blocking` variants for Java). */
internal fun <T> blocking(call: suspend () -> T): T = runBlocking { call() }

/**
 * The scope of the `…Async` variants: a failed call completes only its own
 * future (supervisor), and the calls run on the IO pool because the blocking
 * parts of a flow (a cache file's lock) must not hold a CPU worker.
 */
private val futureScope = CoroutineScope(SupervisorJob() + Dispatchers.IO)

/**
 * A suspending call as a [CompletableFuture] (the `…Async` variants, MSAL for
 * Java's shape). The future fails with the [IdFlowException] the call threw;
 * cancelling the future cancels the call.
 */
internal fun <T> future(call: suspend () -> T): CompletableFuture<T> = futureScope.future { call() }
