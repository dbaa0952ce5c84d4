// The cache-hit hot path: a prepared native lookup per (scopes, account)
// answers with one integer per call, and the token record crosses JNA only
// when the cached token changed. The full (suspending) call runs only when
// nothing usable is cached, so its answer and its errors are unchanged.

package dev.idflow

import dev.idflow.ffi.AuthException
import dev.idflow.ffi.CachedTokenProbe
import java.util.concurrent.ConcurrentHashMap

/** `CachedTokenProbe.probe()`: nothing usable is cached. */
private const val PROBE_MISS: Long = -1L

/** Prepared lookups kept per application; more distinct keys than this start over. */
private const val MAX_PROBES = 256

internal class CacheHits(private val prepare: (List<String>, String?) -> CachedTokenProbe) {
    private class Entry(val probe: CachedTokenProbe) {
        @Volatile var last: TokenResult? = null
    }

    private val entries = ConcurrentHashMap<Pair<List<String>, String?>, Entry>()

    /**
     * The cached token for [scopes] (and [homeAccountId], or the app's own
     * when null) if one is usable now, without the network; null otherwise
     * (the caller then makes the full call, which also reports any failure).
     */
    fun hit(scopes: List<String>, homeAccountId: String?): TokenResult? {
        val key = Pair(scopes.toList(), homeAccountId)
        val entry = entries[key] ?: run {
            if (entries.size >= MAX_PROBES) entries.clear()
            entries.computeIfAbsent(key) { Entry(prepare(it.first, it.second)) }
        }
        val expiresOn = entry.probe.probe()
        if (expiresOn == PROBE_MISS) return null
        val last = entry.last
        if (expiresOn >= 0 && last != null && last.expiresOn == expiresOn) return last
        val fresh = try {
            entry.probe.fetch()
        } catch (e: AuthException) {
            null
        } ?: return null
        entry.last = fresh
        return fresh
    }
}
