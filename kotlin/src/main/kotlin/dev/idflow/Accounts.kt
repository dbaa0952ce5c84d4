// The accounts as one native buffer: one JNA crossing per getAccounts()
// however many accounts the cache holds, each AccountInfo decoded only when
// the caller reads it. The buffer's layout is the bindings' pack_accounts
// (bindings/src/packed.rs): a count, then per account five fields, each a
// big-endian byte length and UTF-8 bytes.

@file:JvmName("IdFlowAccounts")

package dev.idflow

/**
 * The accounts in [packed], as the generated `getAccountsPacked` returns
 * them (for callers of the generated objects; [ClientApplication.getAccounts]
 * does this for you): a read-only list, each [AccountInfo] decoded when read.
 */
fun packedAccounts(packed: ByteArray): List<AccountInfo> = AccountList.of(packed)

/** The five fields of each packed account. */
private const val FIELDS = 5

/** A read-only list over packed accounts, decoding an [AccountInfo] per [get]. */
internal class AccountList private constructor(
    private val bytes: ByteArray,
    /** Where each account's first field starts in [bytes]. */
    private val starts: IntArray,
) : AbstractList<AccountInfo>(), RandomAccess {
    override val size: Int get() = starts.size

    override fun get(index: Int): AccountInfo {
        if (index < 0 || index >= starts.size) throw IndexOutOfBoundsException("index $index, size ${starts.size}")
        var at = starts[index]
        val fields = arrayOfNulls<String>(FIELDS)
        for (f in 0 until FIELDS) {
            val len = int(bytes, at)
            fields[f] = String(bytes, at + 4, len, Charsets.UTF_8)
            at += 4 + len
        }
        return AccountInfo(
            homeAccountId = fields[0]!!,
            environment = fields[1]!!,
            tenantId = fields[2]!!,
            username = fields[3]!!,
            localAccountId = fields[4]!!,
        )
    }

    companion object {
        private fun int(b: ByteArray, at: Int): Int =
            ((b[at].toInt() and 0xff) shl 24) or ((b[at + 1].toInt() and 0xff) shl 16) or
                ((b[at + 2].toInt() and 0xff) shl 8) or (b[at + 3].toInt() and 0xff)

        /** The list over [bytes] as `get_accounts_packed` returned them (indexed once, decoded on access). */
        fun of(bytes: ByteArray): AccountList {
            val count = int(bytes, 0)
            val starts = IntArray(count)
            var at = 4
            for (i in 0 until count) {
                starts[i] = at
                for (f in 0 until FIELDS) at += 4 + int(bytes, at)
            }
            return AccountList(bytes, starts)
        }
    }
}

/**
 * The account list of one cache generation: while the cache's generation
 * (one integer, one crossing) stays the same, the list read after it is still
 * current and is handed out again (its elements are decoded afresh per read,
 * so callers never share an AccountInfo).
 */
internal class AccountsMemo(private val generation: () -> ULong, private val read: (String?) -> ByteArray) {
    private class Entry(val generation: ULong, val accounts: AccountList)

    @Volatile private var last: Entry? = null

    fun accounts(username: String?): List<AccountInfo> {
        if (username != null) return AccountList.of(read(username))
        // The generation first: a change after it makes the next call read again.
        val now = generation()
        last?.let { if (it.generation == now) return it.accounts }
        val fresh = AccountList.of(read(null))
        last = Entry(now, fresh)
        return fresh
    }
}
