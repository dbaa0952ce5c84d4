package dev.idflow.bench;

import com.microsoft.aad.msal4j.IAccount;
import com.microsoft.aad.msal4j.IAuthenticationResult;
import com.microsoft.aad.msal4j.SilentParameters;
import dev.idflow.IdFlowCache;
import dev.idflow.ffi.AccountInfo;
import dev.idflow.ffi.TokenCache;
import dev.idflow.ffi.TokenResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * idflow's Kotlin/JVM binding vs MSAL for Java 1.26.1 in one JVM, each
 * holding the same msal-format cache of N users: a silent hit, a silent miss
 * up to the network, the accounts, serialize and deserialize. No network:
 * both apps get an HTTP client that fails every request at once
 * ({@link NoNetwork}), so a miss is measured from the call to the refresh
 * request handed to the HTTP client and the error coming back.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgs = {"-Xms4g", "-Xmx4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CacheBench {
    @Param({"10000", "100000"})
    public int users;

    private String json;
    private byte[] jsonBytes;
    private List<String> scopes;
    private Set<String> scopeSet;
    private List<String> missScopes;
    private Set<String> missScopeSet;
    private final NoNetwork.IdFlow idflowNetwork = new NoNetwork.IdFlow();
    private final NoNetwork.Msal msalNetwork = new NoNetwork.Msal();

    private dev.idflow.PublicClientApplication idflow;
    private AccountInfo idflowAccount;
    private TokenCache idflowScratch;
    /** One user's access token as msal's dict (JSON), rewritten by the refresh rows. */
    private String idflowAccessToken;
    private int refreshes;
    /** The same user's account entry as msal's dict, renamed by the account-change row. */
    private String idflowAccountEntry;
    private int renames;

    private com.microsoft.aad.msal4j.PublicClientApplication msal;
    private IAccount msalAccount;
    private com.microsoft.aad.msal4j.PublicClientApplication msalScratch;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        json = CacheJson.build(users);
        jsonBytes = json.getBytes(StandardCharsets.UTF_8);
        scopes = List.of(CacheJson.SCOPE);
        scopeSet = Set.of(CacheJson.SCOPE);
        missScopes = List.of(CacheJson.MISS_SCOPE);
        missScopeSet = Set.of(CacheJson.MISS_SCOPE);
        String who = CacheJson.username(users / 2);

        idflow = dev.idflow.PublicClientApplication.builder(CacheJson.CLIENT)
                .authority(CacheJson.AUTHORITY)
                .httpClient(idflowNetwork)
                .build();
        IdFlowCache.restore(idflow.getTokenCache(), jsonBytes);
        idflowAccount = idflow.getAccounts(who).get(0);
        idflowScratch = new TokenCache();
        // The user's access token entry as the document holds it (its members
        // are strings: the object ends at the first brace).
        int at = json.indexOf("{\"credential_type\":\"AccessToken\",\"secret\":\"at." + (users / 2) + ".");
        idflowAccessToken = json.substring(at, json.indexOf('}', at) + 1);
        if (!idflowAccessToken.contains(idflowAccount.getHomeAccountId())) {
            throw new IllegalStateException("not the user's access token");
        }
        // Only account entries begin with their home account id.
        at = json.indexOf("{\"home_account_id\":\"" + idflowAccount.getHomeAccountId() + "\"");
        idflowAccountEntry = json.substring(at, json.indexOf('}', at) + 1);
        accountsReadIdflowAfterAccountChange();
        String renamed = "renamed-" + (renames % 3) + "@example.com";
        if (idflow.getAccounts().size() != users
                || idflow.getAccounts().stream().noneMatch(a -> a.getUsername().equals(renamed))) {
            throw new IllegalStateException("the list after renaming the account is not the cache's");
        }

        msal = msalApp();
        msal.tokenCache().deserialize(json);
        for (IAccount a : msal.getAccounts().get()) {
            if (a.username().equals(who)) msalAccount = a;
        }
        msalScratch = msalApp();
        // Both must answer from the cache, with the same token.
        String a = hitIdflow().getAccessToken();
        String b = hitMsal().accessToken();
        if (!a.equals(b)) throw new IllegalStateException("the two libraries returned different tokens");
        // Both must miss, try their refresh token, and fail at the network.
        long before = idflowNetwork.calls.get();
        Exception idflowMiss = missIdflow();
        if (!(idflowMiss instanceof dev.idflow.IdFlowException) || idflowNetwork.calls.get() != before + 1) {
            throw new IllegalStateException("idflow's miss did not reach the network: " + idflowMiss);
        }
        before = msalNetwork.calls.get();
        Exception msalMiss = missMsal();
        if (msalMiss == null || msalNetwork.calls.get() != before + 1) {
            throw new IllegalStateException("MSAL for Java's miss did not reach the network: " + msalMiss);
        }
    }

    private com.microsoft.aad.msal4j.PublicClientApplication msalApp() throws Exception {
        return com.microsoft.aad.msal4j.PublicClientApplication.builder(CacheJson.CLIENT)
                .authority(CacheJson.AUTHORITY)
                .instanceDiscovery(false)
                .httpClient(msalNetwork)
                .build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        idflow.close();
    }

    @Benchmark
    public TokenResult hitIdflow() {
        return idflow.acquireTokenSilentBlocking(scopes, idflowAccount);
    }

    /**
     * The hit as the Kotlin layer answered it before its prepared lookups:
     * the generated suspending call under runBlocking (what
     * acquireTokenSilentBlocking ran).
     */
    @Benchmark
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Object hitIdflowAsyncPath() throws InterruptedException {
        dev.idflow.ffi.PublicClientApplication nativeApp = idflow.getNative();
        return kotlinx.coroutines.BuildersKt.runBlocking(
                kotlin.coroutines.EmptyCoroutineContext.INSTANCE,
                (scope, cont) -> {
                    try {
                        return nativeApp.acquireTokenSilent(
                                scopes, idflowAccount, null, false, (kotlin.coroutines.Continuation) cont);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    @Benchmark
    public IAuthenticationResult hitMsal() throws Exception {
        return msal.acquireTokenSilently(SilentParameters.builder(scopeSet, msalAccount).build()).get();
    }

    /**
     * A silent call for a scope the cache holds no access token for: the
     * lookup misses, the account's refresh token is found and its request
     * built and handed to the HTTP client, which fails at once.
     */
    @Benchmark
    public Exception missIdflow() {
        try {
            idflow.acquireTokenSilentBlocking(missScopes, idflowAccount);
        } catch (dev.idflow.IdFlowException e) {
            return e;
        }
        throw new IllegalStateException("idflow answered a miss from the cache");
    }

    @Benchmark
    public Exception missMsal() {
        try {
            msal.acquireTokenSilently(SilentParameters.builder(missScopeSet, msalAccount).build()).get();
        } catch (Exception e) {
            return e;
        }
        throw new IllegalStateException("MSAL for Java answered a miss from the cache");
    }

    @Benchmark
    public Object accountsIdflow() {
        return idflow.getAccounts();
    }

    /** Before: the generated call, one record per account lifted from the native buffer. */
    @Benchmark
    public Object accountsIdflowRecords() throws Exception {
        return idflow.getNative().getAccounts(null);
    }

    /** The one-crossing path without the per-generation memo: the packed buffer, every account decoded. */
    @Benchmark
    public int accountsReadIdflowUncached() throws Exception {
        int n = 0;
        for (AccountInfo a : dev.idflow.IdFlowAccounts.packedAccounts(idflow.getNative().getAccountsPacked(null))) {
            n += a.getUsername().length();
        }
        return n;
    }

    @Benchmark
    public Object accountsMsal() throws Exception {
        return msal.getAccounts().get();
    }

    /** The accounts, each one's username read (a lazily decoded list pays here). */
    @Benchmark
    public int accountsReadIdflow() {
        int n = 0;
        for (AccountInfo a : idflow.getAccounts()) n += a.getUsername().length();
        return n;
    }

    /**
     * The accounts after a token refresh as the cache sees it (one access
     * token rewritten, its secret alternating): the list read before it is
     * still current, as the accounts generation tells. MSAL for Java lists
     * the accounts again on every call (accountsReadMsal).
     */
    @Benchmark
    public int accountsReadIdflowAfterRefresh() throws Exception {
        refreshes++;
        idflow.getTokenCache().modifyJson("AccessToken", idflowAccessToken,
                "{\"secret\":\"refreshed-" + (refreshes & 1) + "\"}");
        int n = 0;
        for (AccountInfo a : idflow.getAccounts()) n += a.getUsername().length();
        return n;
    }

    /**
     * The accounts after an account change: one account's username
     * alternating (the user signed in again under another name; the record
     * rewritten through modifyJson), then every username read. The account
     * list moved: idflow's native side reports the changed account (two
     * steps: removed, inserted) instead of the whole list, and the list
     * held on the JVM side is brought up to date. MSAL for Java lists the
     * accounts again on every call (accountsReadMsal).
     */
    @Benchmark
    public int accountsReadIdflowAfterAccountChange() throws Exception {
        renames++;
        idflow.getTokenCache().modifyJson("Account", idflowAccountEntry,
                "{\"username\":\"renamed-" + (renames % 3) + "@example.com\"}");
        int n = 0;
        for (AccountInfo a : idflow.getAccounts()) n += a.getUsername().length();
        return n;
    }

    @Benchmark
    public int accountsReadMsal() throws Exception {
        int n = 0;
        for (IAccount a : msal.getAccounts().get()) n += a.username().length();
        return n;
    }

    @Benchmark
    public String serializeIdflow() {
        return IdFlowCache.serialize(idflow.getTokenCache());
    }

    /** Before: the generated serialize(), which decodes the document as UTF-8 into the String. */
    @Benchmark
    public String serializeIdflowGeneratedString() {
        return idflow.getTokenCache().serializeText();
    }

    /** The serialized cache as UTF-8 bytes, for storage that takes bytes. */
    @Benchmark
    public byte[] serializeIdflowBytes() {
        return IdFlowCache.serializeUtf8(idflow.getTokenCache());
    }

    /** What an app storing MSAL for Java's cache as bytes does. */
    @Benchmark
    public byte[] serializeMsalBytes() {
        return msal.tokenCache().serialize().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The floor under any serialize to bytes: a new array of the document's
     * size, filled by one copy (the JVM zeroes it, the kernel touches its
     * pages). No serializer that returns a new byte[] can beat it.
     */
    @Benchmark
    public byte[] memoryFloorNewByteArray() {
        byte[] out = new byte[jsonBytes.length];
        System.arraycopy(jsonBytes, 0, out, 0, out.length);
        return out;
    }

    @Benchmark
    public String serializeMsal() {
        return msal.tokenCache().serialize();
    }

    @Benchmark
    public void deserializeIdflowBytes() {
        IdFlowCache.restore(idflowScratch, jsonBytes);
    }

    @Benchmark
    public void deserializeIdflowString() {
        IdFlowCache.restore(idflowScratch, json);
    }

    /** Before: the generated deserialize(String), which encodes the String per character. */
    @Benchmark
    public void deserializeIdflowGeneratedString() throws Exception {
        idflowScratch.deserializeText(json);
    }

    @Benchmark
    public void deserializeMsal() {
        msalScratch.tokenCache().deserialize(json);
    }
}
