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

/**
 * A read-only list over packed accounts, decoding an [AccountInfo] per [get].
 * The accounts may lie in several texts: a list brought up to date by steps
 * ([updated]) keeps the texts it was built from and adds the steps' text.
 */
internal class AccountList private constructor(
    private val texts: Array<String>,
    /** Which of [texts] each account is in; null: all in the first. */
    private val sources: IntArray?,
    /** Where each account's first field starts in its text. */
    private val starts: IntArray,
) : AbstractList<AccountInfo>(), RandomAccess {
    override val size: Int get() = starts.size

    /** How many texts the accounts lie in. */
    val pieces: Int get() = texts.size

    override fun get(index: Int): AccountInfo {
        if (index < 0 || index >= starts.size) throw IndexOutOfBoundsException("index $index, size ${starts.size}")
        val text = texts[sources?.get(index) ?: 0]
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

        /** Where the account whose first field starts at [from] in [text] ends. */
        private fun skipAccount(text: String, from: Int): Int {
            var at = from
            repeat(FIELDS) {
                val colon = text.indexOf(':', at)
                at = colon + 1 + number(text, at, colon)
            }
            return at
        }

        /** The list over [text] as `get_accounts_packed` returned it, from [from] (indexed once, decoded on access). */
        fun of(text: String, from: Int = 0): AccountList {
            val semicolon = text.indexOf(';', from)
            val starts = IntArray(number(text, from, semicolon))
            var at = semicolon + 1
            for (i in starts.indices) {
                starts[i] = at
                at = skipAccount(text, at)
            }
            return AccountList(arrayOf(text), null, starts)
        }

        /**
         * [old] brought up to date by [update], as `get_accounts_update`
         * returned it (the bindings' StepPacker): `W` and the whole list, or
         * `S`, the number of steps and `;`, then each step — `-i;` removes the
         * account at index i, `+i;` and five fields insert one there — with
         * indexes that never decrease, so one pass over [old] applies them.
         * No step: [old] itself. Throws [IllegalStateException] for steps
         * that do not fit [old] (the caller then reads the whole list).
         */
        fun updated(old: AccountList?, update: String): AccountList {
            if (update.startsWith('W')) return of(update, 1)
            check(update.startsWith('S') && old != null) { "account steps without a list to apply them to" }
            var at = update.indexOf(';')
            val count = number(update, 1, at)
            at += 1
            if (count == 0) return old
            val piece = old.texts.size
            val capacity = old.size + count
            val sources = IntArray(capacity)
            val starts = IntArray(capacity)
            var n = 0 // accounts written
            var from = 0 // accounts of old taken or dropped
            fun take(k: Int) {
                check(k >= 0 && from + k <= old.size) { "account steps past the list's end" }
                System.arraycopy(old.starts, from, starts, n, k)
                if (old.sources == null) sources.fill(0, n, n + k) else System.arraycopy(old.sources, from, sources, n, k)
                n += k
                from += k
            }
            repeat(count) {
                val op = update[at]
                val semicolon = update.indexOf(';', at)
                val index = number(update, at + 1, semicolon)
                at = semicolon + 1
                check(index >= n) { "account steps out of order" }
                take(index - n)
                when (op) {
                    '-' -> {
                        check(from < old.size) { "removing past the list's end" }
                        from += 1
                    }
                    '+' -> {
                        sources[n] = piece
                        starts[n] = at
                        n += 1
                        at = skipAccount(update, at)
                    }
                    else -> error("unknown account step '$op'")
                }
            }
            take(old.size - from)
            return AccountList(old.texts + update, sources.copyOf(n), starts.copyOf(n))
        }
    }
}

/**
 * The account list of one accounts generation: while the cache's accounts
 * generation (one integer, one crossing; it moves when an account, refresh
 * token or app metadata entry may list differently, not at a token refresh)
 * stays the same, the list read after it is still current and is handed out
 * again (its elements are decoded afresh per read, so callers never share an
 * AccountInfo). When it moved, the native side reports what changed since
 * the list held here ([update] with this memo's cursor): after a sign-in the
 * one account added, not 100k accounts crossing again.
 */
internal class AccountsMemo(
    private val generation: () -> ULong,
    private val read: (String?) -> String,
    private val update: (dev.idflow.ffi.AccountsCursor) -> String,
) {
    private class Entry(val generation: ULong, val accounts: AccountList)

    @Volatile private var last: Entry? = null

    /** The native view of [last]'s list; guarded by this memo's lock. */
    private var cursor: dev.idflow.ffi.AccountsCursor? = null

    fun accounts(username: String?): List<AccountInfo> {
        if (username != null) return AccountList.of(read(username))
        // The generation first: a change after it makes the next call read again.
        val now = generation()
        last?.let { if (it.generation == now) return it.accounts }
        synchronized(this) {
            val held = last
            if (held != null && held.generation == now) return held.accounts
            // A list of many pieces (many updates since the last whole list)
            // is read whole again: a new cursor's first answer is the list.
            if (held != null && held.accounts.pieces > MAX_PIECES) dropCursor()
            val fresh = try {
                try {
                    AccountList.updated(held?.accounts, update(openCursor()))
                } catch (e: IllegalStateException) {
                    // Steps that do not fit the list held here (which a
                    // correct native side never sends): read it whole.
                    dropCursor()
                    AccountList.updated(null, update(openCursor()))
                }
            } catch (e: Throwable) {
                // The native view may have moved on without this side: start over.
                dropCursor()
                throw e
            }
            last = Entry(now, fresh)
            return fresh
        }
    }

    private fun openCursor(): dev.idflow.ffi.AccountsCursor =
        cursor ?: dev.idflow.ffi.AccountsCursor().also { cursor = it }

    private fun dropCursor() {
        cursor?.close()
        cursor = null
    }

    private companion object {
        const val MAX_PIECES = 32
    }
}
