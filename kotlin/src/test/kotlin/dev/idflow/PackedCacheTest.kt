package dev.idflow

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.nio.ByteBuffer

/**
 * The cache's whole-buffer crossings: accounts packed into one buffer and
 * decoded per element, the cache serialized as bytes, and a String restored
 * through the byte loader. No server: the cache is msal's JSON written here.
 */
class PackedCacheTest {
    private val client = "11111111-2222-3333-4444-555555555555"
    private val host = "login.microsoftonline.com"
    private val tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

    /** msal's cache JSON with one account (and its refresh token) per username. */
    private fun cache(vararg usernames: String): String {
        val rt = StringBuilder()
        val acc = StringBuilder()
        usernames.forEachIndexed { n, user ->
            val home = "uid$n.$tenant"
            val sep = if (n == 0) "" else ","
            rt.append(sep).append("\"$home-$host-refreshtoken-$client--\":{\"credential_type\":\"RefreshToken\",")
                .append("\"secret\":\"rt$n\",\"home_account_id\":\"$home\",\"environment\":\"$host\",")
                .append("\"client_id\":\"$client\"}")
            acc.append(sep).append("\"$home-$host-$tenant\":{\"home_account_id\":\"$home\",\"environment\":\"$host\",")
                .append("\"realm\":\"$tenant\",\"local_account_id\":\"uid$n\",\"username\":\"$user\",")
                .append("\"authority_type\":\"MSSTS\"}")
        }
        return "{\"AccessToken\":{},\"RefreshToken\":{$rt},\"IdToken\":{},\"Account\":{$acc},\"AppMetadata\":{}}"
    }

    private fun app(cache: TokenCache) =
        PublicClientApplication(AppConfig(clientId = client, authority = "https://$host/$tenant", tokenCache = cache))

    @Test
    fun accountsDecodeEveryFieldIncludingNonAscii() {
        val cache = TokenCache()
        cache.restore(cache("ann@example.com", "jos\u00e9@example.com", "\u7530\u4e2d@example.com", "\uD83D\uDE00:1@example.com"))
        val app = app(cache)
        val accounts = app.getAccounts()
        assertEquals(4, accounts.size)
        assertEquals(
            AccountInfo("uid1.$tenant", host, tenant, "jos\u00e9@example.com", "uid1"),
            accounts.first { it.username.startsWith("jos") },
        )
        assertEquals(
            AccountInfo("uid3.$tenant", host, tenant, "\uD83D\uDE00:1@example.com", "uid3"),
            accounts.first { it.username.startsWith("\uD83D") },
            "a field after a character of two UTF-16 units",
        )
        assertEquals(
            setOf("ann@example.com", "jos\u00e9@example.com", "\u7530\u4e2d@example.com", "\uD83D\uDE00:1@example.com"),
            accounts.map { it.username }.toSet(),
        )
        assertEquals(listOf("uid1.$tenant"), app.getAccounts("JOS\u00c9@example.com").map { it.homeAccountId })
        assertThrows<IndexOutOfBoundsException> { accounts[4] }
    }

    @Test
    fun unchangedAccountsAnswerWithTheSameListAndChangedOnesAreReadAgain() {
        val cache = TokenCache()
        cache.restore(cache("a@example.com", "b@example.com"))
        val app = app(cache)
        val first = app.getAccounts()
        assertSame(first, app.getAccounts(), "no change: the list read last time")
        assertTrue(first[0] !== first[0], "each read decodes a fresh AccountInfo")
        // A token refresh as the cache sees it (the refresh token rewritten):
        // the cache changed, its accounts did not, and the list stays.
        val rt = "{\"credential_type\":\"RefreshToken\",\"secret\":\"rt0\",\"home_account_id\":\"uid0.$tenant\"," +
            "\"environment\":\"$host\",\"client_id\":\"$client\"}"
        cache.modifyJson("RefreshToken", rt, "{\"secret\":\"rt0-next\"}")
        assertTrue(cache.hasStateChanged())
        assertSame(first, app.getAccounts(), "a token refresh: the list read last time")
        cache.restore(cache("c@example.com").toByteArray())
        assertEquals(listOf("c@example.com"), app.getAccounts().map { it.username })
        app.removeAccount(app.getAccounts().single())
        assertTrue(app.getAccounts().isEmpty())
    }

    @Test
    fun aSignOutCrossesAsOneStepAndALoadAsTheWholeList() {
        val cache = TokenCache()
        cache.restore(cache("a@example.com", "b@example.com", "c@example.com"))
        val app = app(cache)
        val first = app.getAccounts() as AccountList
        assertEquals(1, first.pieces)
        app.removeAccount(first[1])
        val after = app.getAccounts() as AccountList
        assertEquals(listOf("a@example.com", "c@example.com"), after.map { it.username })
        assertEquals(2, after.pieces, "the change crossed as steps applied to the list held")
        assertEquals(listOf("a@example.com", "b@example.com", "c@example.com"), first.map { it.username }, "a list handed out stays")
        // The user signed in again under another name (the record rewritten).
        val record = "{\"home_account_id\":\"uid2.$tenant\",\"environment\":\"$host\",\"realm\":\"$tenant\"," +
            "\"local_account_id\":\"uid2\",\"username\":\"c@example.com\",\"authority_type\":\"MSSTS\"}"
        for (name in listOf("c2@example.com", "c3@example.com")) {
            cache.modifyJson("Account", record, "{\"username\":\"$name\"}")
            val renamed = app.getAccounts() as AccountList
            assertEquals(listOf("a@example.com", name), renamed.map { it.username })
            assertTrue(renamed.pieces > 2, "the rename crossed as steps")
        }
        cache.restore(cache("d@example.com", "e@example.com"))
        val loaded = app.getAccounts() as AccountList
        assertEquals(listOf("d@example.com", "e@example.com"), loaded.map { it.username })
        assertEquals(1, loaded.pieces, "a load crosses as the whole list")
    }

    @Test
    fun accountStepsApplyInOnePassAndStepsThatDoNotFitAreRefused() {
        fun packed(vararg users: String) =
            "${users.size};" + users.joinToString("") { "1:h1:e1:t${it.length}:${it}0:" }
        val old = AccountList.updated(null, "W" + packed("a", "b", "c", "d"))
        assertEquals(listOf("a", "b", "c", "d"), old.map { it.username })
        assertSame(old, AccountList.updated(old, "S0;"))
        // Replace b, drop d, add e at the end and \uD83D\uDE00 at the start.
        val emoji = "\uD83D\uDE00"
        val steps = "S5;+0;1:h1:e1:t2:${emoji}0:-2;+2;1:h1:e1:t2:b20:-4;+4;1:h1:e1:t1:e0:"
        val new = AccountList.updated(old, steps)
        assertEquals(listOf(emoji, "a", "b2", "c", "e"), new.map { it.username })
        assertEquals(listOf("a", "b", "c", "d"), old.map { it.username }, "the old list is unchanged")
        assertThrows<IllegalStateException> { AccountList.updated(new, "S2;-3;-1;") }
        assertThrows<IllegalStateException> { AccountList.updated(new, "S1;-5;") }
        assertThrows<IllegalStateException> { AccountList.updated(null, "S1;-0;") }
    }

    @Test
    fun serializedBytesAreTheSerializedTextAndAStringRestoresLikeBytes() {
        val cache = TokenCache()
        val text = cache("z\u00fcrich@example.com")
        cache.restore(text)
        val bytes = cache.serializeUtf8()
        assertArrayEquals(cache.serializeText().toByteArray(Charsets.UTF_8), bytes)
        assertEquals(cache.serializeText(), cache.serialize(), "a document that is not ASCII, written in place")
        val again = TokenCache()
        again.restore(String(bytes, Charsets.UTF_8))
        assertEquals(listOf("z\u00fcrich@example.com"), app(again).getAccounts().map { it.username })
        val bad = assertThrows<ClientException> { again.restore("{\"Account\": [") }
        assertEquals("invalid_cache_format", bad.errorCode)
        assertEquals(1, app(again).getAccounts().size, "a failed restore changes nothing")
    }

    /**
     * MSAL for Java's two names work on the cache as they do there, through
     * the byte paths: `deserialize(String)` is [restore] (and throws the
     * IdFlowException hierarchy, not the generated binding's exception),
     * except that a blank or null document changes nothing, as in MSAL for
     * Java (`TokenCache.deserialize` returns on `StringHelper.isBlank`);
     * `restore("")` empties the cache. `serialize()` is the generated text,
     * and clears the changed flag like it.
     */
    @Test
    fun serializeAndDeserializeByMsalForJavasNames() {
        val cache = TokenCache()
        cache.deserialize(cache("a@example.com", "b@example.com"))
        assertEquals(2, app(cache).getAccounts().size)
        assertFalse(cache.hasStateChanged(), "a loaded cache has nothing to persist")
        cache.setStateChanged(true)
        val text = cache.serialize()
        assertFalse(cache.hasStateChanged(), "serialize clears the changed flag")
        assertEquals(cache.serializeText(), text)
        val bad = assertThrows<ClientException> { cache.deserialize("{\"Account\": [") }
        assertEquals("invalid_cache_format", bad.errorCode)
        assertEquals(2, app(cache).getAccounts().size, "a failed deserialize changes nothing")
        for (blank in listOf("", " \r\n\t", null)) {
            cache.deserialize(blank)
            assertEquals(2, app(cache).getAccounts().size, "deserialize(${blank?.let { "\"$it\"" }}) changes nothing")
        }
        cache.restore("")
        assertEquals(0, app(cache).getAccounts().size, "restore of an empty document empties the cache")
    }

    /**
     * A document of several huge pages is written in place into native
     * memory and copied into the array (and the String); a document with an
     * escaped string does not fit the predicted length and takes the ordinary
     * path. Both are the generated binding's text, both clear the changed
     * flag, and every kind of buffer restores the same cache.
     */
    @Test
    fun serializedBytesOfALargeOrEscapedCacheAndEveryKindOfBufferRestored() {
        val many = Array(20_000) { "user$it@example.com" }
        for (users in listOf(many, arrayOf("a\\\"quoted\\u0001@example.com", "b@example.com"))) {
            val cache = TokenCache()
            cache.restore(cache(*users))
            app(cache).removeAccount(app(cache).getAccounts().first { '"' !in it.username })
            assertTrue(cache.hasStateChanged())
            val bytes = cache.serializeUtf8()
            assertFalse(cache.hasStateChanged(), "serializeUtf8 clears the changed flag")
            assertArrayEquals(cache.serializeText().toByteArray(Charsets.UTF_8), bytes)
            cache.setStateChanged(true)
            val text = cache.serialize()
            assertFalse(cache.hasStateChanged(), "serialize clears the changed flag")
            assertEquals(cache.serializeText(), text)
            if (users === many) assertTrue(bytes.size > 8 shl 20, "${bytes.size} bytes: several huge pages")
            assertEquals(users === many, cache.serializedInPlace() != null, "written in place unless escaped")

            val padded = ByteArray(bytes.size + 16).also { bytes.copyInto(it, destinationOffset = 9) }
            val buffers = listOf(
                ByteBuffer.wrap(padded, 9, bytes.size).slice(),
                ByteBuffer.wrap(padded).position(9).limit(9 + bytes.size),
                ByteBuffer.wrap(bytes).asReadOnlyBuffer(),
                ByteBuffer.allocateDirect(bytes.size).put(bytes).flip(),
            )
            for (buffer in buffers) {
                val again = TokenCache()
                again.restore(buffer)
                assertArrayEquals(bytes, again.serializeUtf8(), "restored from $buffer")
            }
        }
        val empty = TokenCache()
        empty.restore(cache("a@example.com"))
        empty.restore(ByteArray(0))
        assertEquals(0UL, empty.counts().accounts, "no bytes: an empty cache")
        assertTrue(app(empty).getAccounts().isEmpty())
    }
}
