package dev.idflow.bench;

import com.microsoft.aad.msal4j.ClientCredentialFactory;
import com.microsoft.aad.msal4j.ClientCredentialParameters;
import dev.idflow.IdFlowCache;
import dev.idflow.JavaNetHttpClient;
import dev.idflow.ffi.ClientCredential;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Time to the first token of a new app, client credentials, on a well-known
 * Microsoft cloud: idflow's Kotlin binding vs MSAL for Java 1.26.1 vs the bare
 * token request (the same form, posted by the same JDK client). Both libraries
 * address {@code login.microsoftonline.com}; {@link Loopback} sends it to the
 * emulator on 127.0.0.1 (started by {@code bench/jvm/run.sh}, its address in
 * {@code IDFLOW_BENCH_EMULATOR}), so each takes its real path for a known
 * cloud: one request, no discovery (MSAL for Java with
 * {@code instanceDiscovery(false)}, as an app that knows its cloud sets it).
 *
 * <p>The {@code emptiedCache*} benchmarks send the same token request from an
 * app kept across calls, its cache emptied first: through the same JDK client
 * for both libraries, and through idflow's own transport (its authority the
 * emulator itself, whose endpoints the app resolved once, in the set-up), to
 * tell the cost of handing requests to the app's HTTP client from idflow's.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class FirstTokenBench {
    /** The emulator's built-in confidential client (a test fixture, not a credential). */
    static final String CLIENT = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10";
    static final String SECRET = "emulator-secret-do-not-use-in-production";
    static final String TENANT = "emulator.idflow.test";
    static final String AUTHORITY = Loopback.CLOUD + "/" + TENANT;
    static final String SCOPE = "https://graph.microsoft.com/.default";

    private Loopback loop;
    private Loopback.IdFlow idflowHttp;
    private JavaNetHttpClient idflowAdapter;
    private Loopback.Msal msalHttp;
    private HttpRequest bareRequest;
    private dev.idflow.ConfidentialClientApplication keptIdflowJdk;
    private dev.idflow.ConfidentialClientApplication keptIdflowOwn;
    private com.microsoft.aad.msal4j.ConfidentialClientApplication keptMsal;

    @Setup
    public void setUp() throws Exception {
        String emulator = System.getenv("IDFLOW_BENCH_EMULATOR");
        if (emulator == null || emulator.isEmpty()) {
            throw new IllegalStateException("IDFLOW_BENCH_EMULATOR is not set: run through bench/jvm/run.sh");
        }
        loop = new Loopback(emulator);
        idflowHttp = loop.new IdFlow();
        idflowAdapter = new JavaNetHttpClient(idflowHttp);
        msalHttp = loop.new Msal();
        String form = "client_id=" + enc(CLIENT) + "&client_secret=" + enc(SECRET) + "&scope=" + enc(SCOPE)
                + "&grant_type=client_credentials";
        bareRequest = HttpRequest.newBuilder(loop.local(AUTHORITY + "/oauth2/v2.0/token"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build();
        // Each side gets a token, with exactly one request.
        long before = idflowHttp.calls.get();
        firstTokenIdflow();
        if (idflowHttp.calls.get() != before + 1) {
            throw new IllegalStateException("idflow's first token took " + (idflowHttp.calls.get() - before) + " requests");
        }
        before = msalHttp.calls.get();
        firstTokenMsal();
        if (msalHttp.calls.get() != before + 1) {
            throw new IllegalStateException("MSAL for Java's first token took " + (msalHttp.calls.get() - before) + " requests");
        }
        firstTokenBare();

        keptIdflowJdk = idflowApp().build();
        keptIdflowOwn = dev.idflow.ConfidentialClientApplication
                .builder(CLIENT, new ClientCredential.Secret(SECRET))
                .authority(emulator.replaceAll("/+$", "") + "/" + TENANT)
                .validateAuthority(false)
                .build();
        keptMsal = msalApp();
        emptiedCacheIdflowJdk();
        emptiedCacheIdflowOwnTransport();
        emptiedCacheMsal();
        // Emptied, each cache makes the next call a request again.
        before = idflowHttp.calls.get();
        emptiedCacheIdflowJdk();
        long msalBefore = msalHttp.calls.get();
        emptiedCacheMsal();
        if (idflowHttp.calls.get() != before + 1 || msalHttp.calls.get() != msalBefore + 1) {
            throw new IllegalStateException("an emptied cache answered without a request: idflow "
                    + (idflowHttp.calls.get() - before) + ", MSAL for Java " + (msalHttp.calls.get() - msalBefore));
        }
    }

    @TearDown
    public void tearDown() {
        keptIdflowJdk.close();
        keptIdflowOwn.close();
    }

    private dev.idflow.ConfidentialClientApplicationBuilder idflowApp() {
        return dev.idflow.ConfidentialClientApplication
                .builder(CLIENT, new ClientCredential.Secret(SECRET))
                .authority(AUTHORITY)
                .httpClient(idflowAdapter);
    }

    private com.microsoft.aad.msal4j.ConfidentialClientApplication msalApp() throws Exception {
        return com.microsoft.aad.msal4j.ConfidentialClientApplication
                .builder(CLIENT, ClientCredentialFactory.createFromSecret(SECRET))
                .authority(AUTHORITY + "/")
                .instanceDiscovery(false)
                .httpClient(msalHttp)
                .build();
    }

    private static String forClient(dev.idflow.ConfidentialClientApplication app) throws Exception {
        return checked(app.acquireTokenForClientBlocking(List.of(SCOPE), null).getAccessToken(), "idflow");
    }

    private static String forClient(com.microsoft.aad.msal4j.ConfidentialClientApplication app) throws Exception {
        return checked(app.acquireToken(ClientCredentialParameters.builder(Set.of(SCOPE)).build()).get().accessToken(),
                "MSAL for Java");
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String checked(String token, String who) {
        if (token == null || token.isEmpty()) throw new IllegalStateException(who + " returned no token");
        return token;
    }

    @Benchmark
    public String firstTokenIdflow() throws Exception {
        try (dev.idflow.ConfidentialClientApplication app = idflowApp().build()) {
            return forClient(app);
        }
    }

    @Benchmark
    public String firstTokenMsal() throws Exception {
        return forClient(msalApp());
    }

    @Benchmark
    public String emptiedCacheIdflowJdk() throws Exception {
        IdFlowCache.restore(keptIdflowJdk.getTokenCache(), "");
        return forClient(keptIdflowJdk);
    }

    @Benchmark
    public String emptiedCacheIdflowOwnTransport() throws Exception {
        IdFlowCache.restore(keptIdflowOwn.getTokenCache(), "");
        return forClient(keptIdflowOwn);
    }

    /**
     * MSAL for Java's {@code deserialize} merges what it reads into the cache
     * (msal4j's TokenCache.deserializeCollection puts each entry into the
     * existing maps), so it cannot empty it: {@code skipCache} instead.
     */
    @Benchmark
    public String emptiedCacheMsal() throws Exception {
        return checked(keptMsal.acquireToken(ClientCredentialParameters.builder(Set.of(SCOPE)).skipCache(true).build())
                .get().accessToken(), "MSAL for Java");
    }

    @Benchmark
    public String firstTokenBare() throws Exception {
        HttpResponse<String> r = loop.jdk.send(bareRequest, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200 || !r.body().contains("\"access_token\"")) {
            throw new IllegalStateException("the bare request got " + r.statusCode());
        }
        return r.body();
    }
}
