// The accounts as one native text: one JNA crossing per getAccounts()
// however many accounts the cache holds, each AccountInfo decoded only when
// the caller reads it. The text's layout is the bindings' AccountPacker
// (bindings/src/packed.rs): the count and `;`, then per account five fields,
// each its length in UTF-16 units, `:` and the field.

@file:JvmName("IdFlowAccounts")

package dev.idflow

/**
 * The accounts in [packed], as the generated `getAccountsPacked` returns
 * them (for callers of the generated objects; [ClientApplication.getAccounts]
 * does this for you): a read-only list, each [AccountInfo] decoded when read.
 */
fun packedAccounts(packed: String): List<AccountInfo> = AccountList.of(packed)

/** The five fields of each packed account. */
private const val FIELDS = 5

/** A read-only list over packed accounts, decoding an [AccountInfo] per [get]. */
internal class AccountList private constructor(
    private val text: String,
    /** Where each account's first field starts in [text]. */
    private val starts: IntArray,
) : AbstractList<AccountInfo>(), RandomAccess {
    override val size: Int get() = starts.size

    override fun get(index: Int): AccountInfo {
        if (index < 0 || index >= starts.size) throw IndexOutOfBoundsException("index $index, size ${starts.size}")
        var at = starts[index]
        val fields = arrayOfNulls<String>(FIELDS)
        for (f in 0 until FIELDS) {
            val colon = text.indexOf(':', at)
            val end = colon + 1 + number(text, at, colon)
            fields[f] = text.substring(colon + 1, end)
            at = end
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
        /** The decimal number in [s] from [from] to [to]. */
        private fun number(s: String, from: Int, to: Int): Int {
            var n = 0
            for (i in from until to) n = n * 10 + (s[i] - '0')
            return n
        }

        /** The list over [text] as `get_accounts_packed` returned it (indexed once, decoded on access). */
        fun of(text: String): AccountList {
            val semicolon = text.indexOf(';')
            val starts = IntArray(number(text, 0, semicolon))
            var at = semicolon + 1
            for (i in starts.indices) {
                starts[i] = at
                repeat(FIELDS) {
                    val colon = text.indexOf(':', at)
                    at = colon + 1 + number(text, at, colon)
                }
            }
            return AccountList(text, starts)
        }
    }
}

/**
 * The account list of one accounts generation: while the cache's accounts
 * generation (one integer, one crossing; it moves when an account, refresh
 * token or app metadata entry may list differently, not at a token refresh)
 * stays the same, the list read after it is still current and is handed out
 * again (its elements are decoded afresh per read, so callers never share an
 * AccountInfo).
 */
internal class AccountsMemo(private val generation: () -> ULong, private val read: (String?) -> String) {
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
