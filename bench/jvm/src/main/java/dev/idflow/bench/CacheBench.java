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
 * holding the same msal-format cache of N users: a silent hit, the accounts,
 * serialize and deserialize. No network: both answer from the cache.
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

    private dev.idflow.PublicClientApplication idflow;
    private AccountInfo idflowAccount;
    private TokenCache idflowScratch;

    private com.microsoft.aad.msal4j.PublicClientApplication msal;
    private IAccount msalAccount;
    private com.microsoft.aad.msal4j.PublicClientApplication msalScratch;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        json = CacheJson.build(users);
        jsonBytes = json.getBytes(StandardCharsets.UTF_8);
        scopes = List.of(CacheJson.SCOPE);
        scopeSet = Set.of(CacheJson.SCOPE);
        String who = CacheJson.username(users / 2);

        idflow = new dev.idflow.PublicClientApplication(CacheJson.CLIENT, CacheJson.AUTHORITY);
        IdFlowCache.restore(idflow.getTokenCache(), jsonBytes);
        idflowAccount = idflow.getAccounts(who).get(0);
        idflowScratch = new TokenCache();

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
    }

    private static com.microsoft.aad.msal4j.PublicClientApplication msalApp() throws Exception {
        return com.microsoft.aad.msal4j.PublicClientApplication.builder(CacheJson.CLIENT)
                .authority(CacheJson.AUTHORITY)
                .instanceDiscovery(false)
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

    @Benchmark
    public Object accountsIdflow() {
        return idflow.getAccounts();
    }

    @Benchmark
    public Object accountsMsal() throws Exception {
        return msal.getAccounts().get();
    }

    @Benchmark
    public String serializeIdflow() {
        return idflow.getTokenCache().serialize();
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

    @Benchmark
    public void deserializeMsal() {
        msalScratch.tokenCache().deserialize(json);
    }
}
