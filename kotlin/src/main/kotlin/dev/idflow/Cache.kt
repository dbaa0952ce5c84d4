// The token cache, idiomatically: msal's cache format in and out, and the
// storage an app plugs in (the Android Keystore, an encrypted file, a
// database row). Every call throws the IdFlowException hierarchy.

@file:JvmName("IdFlowCache")

package dev.idflow

import dev.idflow.ffi.AuthException
import java.io.File
import java.nio.ByteBuffer

/**
 * Replaces this cache's content with msal-format JSON (from idflow or any
 * MSAL), as MSAL for Java's `ITokenCache.deserialize` does: the same as
 * [restore], except that a null or blank [state] (only characters up to
 * U+0020, as Java's `String.trim` removes) changes nothing, as there
 * (`TokenCache.deserialize` returns at once on `StringHelper.isBlank`): an
 * app that reads empty storage keeps what it holds. Anything else that is
 * not the format is a [ClientException] (`invalid_cache_format`) and leaves
 * the cache unchanged. To empty the cache, `restore("")`.
 */
@Throws(IdFlowException::class)
fun TokenCache.deserialize(state: String?) {
    if (state == null || state.all { it <= ' ' }) return
    restore(state)
}

/**
 * Replaces this cache's content with msal-format JSON (from idflow or any
 * MSAL). Anything else is a [ClientException] (`invalid_cache_format`) and
 * leaves the cache unchanged. The text is encoded to UTF-8 here (the JDK's
 * encoder is far faster than the generated binding's per-character one) and
 * read by the byte loader.
 */
@Throws(IdFlowException::class)
fun TokenCache.restore(state: String) = restore(state.toByteArray(Charsets.UTF_8))

/**
 * [restore] from the JSON's UTF-8 bytes (a file's or a database row's
 * content): one copy into native memory, faster than a String, which crosses
 * JNA character by character. Bytes that are not UTF-8 fail like bad JSON,
 * with a [ClientException] (`invalid_cache_format`).
 */
@Throws(IdFlowException::class)
fun TokenCache.restore(state: ByteArray) = restore(ByteBuffer.wrap(state))

/**
 * [restore] from the JSON's UTF-8 bytes between [state]'s position and limit.
 * A direct buffer (`ByteBuffer.allocateDirect`, a mapped file from
 * `FileChannel.map`) is read in place, without any copy; any other is copied
 * once into native memory.
 */
@Throws(IdFlowException::class)
fun TokenCache.restore(state: ByteBuffer) {
    if (state.isDirect) return translated { deserializeUtf8(state) }
    val length = state.remaining()
    NativeBuffer(length.toLong()).use { native ->
        if (state.hasArray()) {
            native.write(state.array(), state.arrayOffset() + state.position(), length)
        } else {
            native.view().put(state.duplicate())
        }
        translated { deserializeUtf8(native.view(length.toLong())) }
    }
}

/**
 * The serialized cache as its UTF-8 bytes, for storage that takes bytes (a
 * file, a database row, the Android Keystore): the same document as
 * [serialize], which it clears [TokenCache.hasStateChanged] like. The core
 * writes the document straight into native memory, which is copied once into
 * the array. It holds tokens: store it as a secret.
 */
fun TokenCache.serializeUtf8(): ByteArray =
    serializedInPlace()?.bytes ?: serializeText().toByteArray(Charsets.UTF_8)

/**
 * The whole cache as msal's JSON, as MSAL for Java's `ITokenCache.serialize`
 * gives it; clears [TokenCache.hasStateChanged]. It holds tokens: store it as
 * a secret. Written like [serializeUtf8], then copied once into the String:
 * as Latin-1 when the writer saw only ASCII (msal's documents are), which is
 * a plain copy, where decoding UTF-8 would scan every byte first.
 */
fun TokenCache.serialize(): String {
    val document = serializedInPlace() ?: return serializeText()
    return String(document.bytes, if (document.ascii) Charsets.ISO_8859_1 else Charsets.UTF_8)
}

/** A document written in place: its UTF-8 bytes, and whether they are all ASCII. */
internal class InPlace(val bytes: ByteArray, val ascii: Boolean)

/**
 * The document written into native memory at the length the core predicts,
 * then copied into the array; null when it does not fit (a string needed
 * escaping, or the cache grew since its length was asked).
 */
internal fun TokenCache.serializedInPlace(): InPlace? {
    val predicted = serializedLenHint().toLong()
    if (predicted > MAX_ARRAY) return null
    return NativeBuffer(predicted).use { native ->
        translated { serializeIntoAddress(native.address.toULong(), predicted.toULong()) }
            ?.let { InPlace(native.read(it.len.toInt()), it.ascii) }
    }
}

/** The largest ByteArray the JVMs allocate. */
private const val MAX_ARRAY = Int.MAX_VALUE - 8L

/**
 * Keeps this cache in [file] from now on: loaded now and whenever the file
 * changed before a lookup, rewritten (atomically, under a lock shared with
 * other processes, owner-only) after every change. Its directory must exist.
 */
@Throws(IdFlowException::class)
fun TokenCache.persistIn(file: File) = translated { attachFile(file.path) }

/** Keeps this cache in [storage] (see [cacheStorage]). */
@Throws(IdFlowException::class)
fun TokenCache.persistIn(storage: CacheStorage) = translated { attachStorage(storage) }

/** Loads the stored bytes; `null` when nothing was saved yet. */
fun interface LoadBytes {
    @Throws(Exception::class)
    fun load(): ByteArray?
}

/** Replaces the stored bytes, all at once. */
fun interface SaveBytes {
    @Throws(Exception::class)
    fun save(data: ByteArray)
}

/**
 * A [CacheStorage] from two lambdas. Whatever they throw becomes a
 * [ClientException] (`cache_storage_failed`) of the token call that needed
 * the storage. [version] may return a cheap value that changes with the
 * stored bytes (a modification time) so unchanged storage is not re-read
 * before each lookup; `null` re-reads every time.
 */
@JvmOverloads
fun cacheStorage(load: LoadBytes, save: SaveBytes, version: (() -> String?)? = null): CacheStorage =
    object : CacheStorage {
        override fun load(): ByteArray? = guarded("load") { load.load() }
        override fun save(data: ByteArray) = guarded("save") { save.save(data) }
        override fun version(): String? = guarded("version") { version?.invoke() }
    }

private inline fun <T> guarded(what: String, call: () -> T): T =
    try {
        call()
    } catch (e: AuthException) {
        throw e
    } catch (e: Exception) {
        val info = dev.idflow.ffi.explain("cache_storage_failed")
        throw AuthException.Client(info.copy(message = "the cache storage's $what failed: $e"), e.toString())
    }
