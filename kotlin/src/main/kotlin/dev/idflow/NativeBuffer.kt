// A whole cache document in native memory, for the few calls that move one
// across the boundary. The JDK's own buffers cost a pass of their own: a
// direct ByteBuffer is zeroed before use, and the generated binding copies a
// returned document twice more on its way to a ByteArray. At 100k users a
// document is 342 MiB, and each pass over fresh memory is mostly page faults.

package dev.idflow

import com.sun.jna.Library
import com.sun.jna.Memory
import com.sun.jna.Native
import com.sun.jna.Platform
import com.sun.jna.Pointer
import java.nio.ByteBuffer

/**
 * [size] bytes of native memory, not zeroed (the native writer or a copy
 * fills them before anything reads them), freed by [close] rather than when
 * the garbage collector gets to it. On Linux a large buffer's whole 2 MiB
 * pages are advised to the kernel as huge pages: one fault per 2 MiB instead
 * of one per 4 KiB.
 */
internal class NativeBuffer(val size: Long) : AutoCloseable {
    private val memory = Memory(size.coerceAtLeast(1))

    init {
        if (size >= HUGE_MIN) advise(Pointer.nativeValue(memory), size)
    }

    /** The address, for a native call that fills the buffer. */
    val address: Long get() = Pointer.nativeValue(memory)

    /** The first [length] bytes as a direct ByteBuffer over this memory (no copy). */
    fun view(length: Long = size): ByteBuffer = memory.getByteBuffer(0, length)

    /** Fills the start of the buffer from [bytes] (one copy). */
    fun write(bytes: ByteArray, offset: Int, length: Int) = memory.write(0, bytes, offset, length)

    /** The first [length] bytes, copied into a new array. */
    fun read(length: Int): ByteArray = ByteArray(length).also { memory.read(0, it, 0, length) }

    override fun close() = memory.close()

    private companion object {
        const val HUGE = 2L shl 20
        /** Below this a document is not worth the system call. */
        const val HUGE_MIN = 4L shl 20
        /** Linux's `MADV_HUGEPAGE` (the same value on every architecture). */
        const val MADV_HUGEPAGE = 14

        /** libc's `madvise`, on Linux only; null where it cannot be loaded. */
        val libc: LibC? by lazy {
            if (!Platform.isLinux()) {
                null
            } else {
                try {
                    Native.load("c", LibC::class.java)
                } catch (e: UnsatisfiedLinkError) {
                    null
                }
            }
        }

        /**
         * Advises the whole huge pages inside [address, address + length).
         * Advice only: a kernel that refuses it (huge pages disabled) leaves
         * ordinary pages, with the same content.
         */
        fun advise(address: Long, length: Long) {
            val lib = libc ?: return
            val start = (address + HUGE - 1) and (HUGE - 1).inv()
            val end = (address + length) and (HUGE - 1).inv()
            if (end - start >= HUGE) lib.madvise(Pointer(start), end - start, MADV_HUGEPAGE)
        }
    }

    interface LibC : Library {
        fun madvise(address: Pointer, length: Long, advice: Int): Int
    }
}
