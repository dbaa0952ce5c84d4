// MSAL for Java (msal4j 1.26.1) against the idflow emulator over TLS, as an
// MSAL user would run it: `idflow emulator --tls --scenario ...`, the CA in a
// truststore made by keytool (javax.net.ssl.trustStore), faults armed through
// the admin API, and assertions on what msal4j itself throws (its exception
// class, errorCode(), statusCode(), reason(), claims()).
//
// Run by scripts/test-msal-libraries.sh with the JDK's source launcher:
//   java -cp <msal4j class path> MsalJavaTest.java <emulator base URL>
// `instanceDiscovery(false)` keeps msal4j from asking login.microsoftonline.com
// about the emulator's host (AadInstanceDiscoveryProvider in msal4j).

import com.microsoft.aad.msal4j.ClaimsRequest;
import com.microsoft.aad.msal4j.ClientCredentialFactory;
import com.microsoft.aad.msal4j.ClientCredentialParameters;
import com.microsoft.aad.msal4j.ConfidentialClientApplication;
import com.microsoft.aad.msal4j.DeviceCodeFlowParameters;
import com.microsoft.aad.msal4j.IAccount;
import com.microsoft.aad.msal4j.IAuthenticationResult;
import com.microsoft.aad.msal4j.InteractionRequiredExceptionReason;
import com.microsoft.aad.msal4j.MsalInteractionRequiredException;
import com.microsoft.aad.msal4j.MsalServiceException;
import com.microsoft.aad.msal4j.PublicClientApplication;
import com.microsoft.aad.msal4j.SilentParameters;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class MsalJavaTest {
    static final String PUBLIC = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e01";
    static final String CONFIDENTIAL = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10";
    static final String SECRET = "emulator-secret-do-not-use-in-production";
    static final Set<String> GRAPH_DEFAULT = Set.of("https://graph.microsoft.com/.default");
    static final Set<String> USER_SCOPES = Set.of("User.Read");

    static String base;
    static String authority;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static int failures = 0;

    interface Check {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        base = args[0];
        authority = base + "/emulator.idflow.test/";
        List<String[]> results = new ArrayList<>();
        test("client credentials", MsalJavaTest::clientCredentials);
        test("device code approved through the admin API, then refresh", MsalJavaTest::deviceCodeThenRefresh);
        test("MFA claims challenge, then the retry with the claims", MsalJavaTest::claimsChallenge);
        test("consent required", MsalJavaTest::consentRequired);
        test("429 with Retry-After", MsalJavaTest::throttled);
        test("a 5xx with an HTML page", MsalJavaTest::serverError);
        test("wrong secret", MsalJavaTest::wrongSecret);
        test("declined device code", MsalJavaTest::declined);
        System.out.println(failures == 0 ? "msal4j: all passed" : "msal4j: " + failures + " failed");
        System.exit(failures == 0 ? 0 : 1);
    }

    static void test(String name, Check check) {
        try {
            admin("POST", "reset", "{}");
            admin("DELETE", "requests", null);
            check.run();
            System.out.println("ok     " + name);
        } catch (Throwable t) {
            failures++;
            System.out.println("FAILED " + name + ": " + t);
        } finally {
            try {
                admin("DELETE", "faults", null);
            } catch (Exception ignored) {
                // the next test's reset reports a dead emulator
            }
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static void equal(Object want, Object got, String what) {
        if (want == null ? got != null : !want.equals(got)) {
            throw new AssertionError(what + ": want " + want + ", got " + got);
        }
    }

    static String admin(String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/_admin/" + path))
                .header("content-type", "application/json");
        b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(json));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        check(r.statusCode() < 300, "admin " + method + " " + path + ": " + r.statusCode() + " " + r.body());
        return r.body();
    }

    /** The statuses of the token requests the emulator logged, in order
     *  (each record names its endpoint before its status). */
    static List<String> tokenStatuses() throws Exception {
        String log = admin("GET", "requests", null);
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"endpoint\":\"token\".*?\"status\":(\\d+)").matcher(log);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    static ConfidentialClientApplication confidential(String secret) throws Exception {
        return ConfidentialClientApplication.builder(CONFIDENTIAL, ClientCredentialFactory.createFromSecret(secret))
                .authority(authority)
                .instanceDiscovery(false)
                .build();
    }

    static PublicClientApplication publicApp() throws Exception {
        return PublicClientApplication.builder(PUBLIC).authority(authority).instanceDiscovery(false).build();
    }

    /** The exception msal4j completed the future with. */
    static Throwable failure(java.util.concurrent.CompletableFuture<IAuthenticationResult> f) throws Exception {
        try {
            f.get();
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected an exception");
    }

    /** A forced refresh. `authorityUrl` is needed off port 443: msal4j keeps
     *  an account's environment as the host without its port, and a silent
     *  request otherwise goes to https://{environment}/{tenant}
     *  (msal4j-sdk/src/main/java/com/microsoft/aad/msal4j/AcquireTokenSilentSupplier.java). */
    static SilentParameters.SilentParametersBuilder refresh(IAccount account) throws Exception {
        return SilentParameters.builder(USER_SCOPES, account).authorityUrl(authority).forceRefresh(true);
    }

    static IAccount signIn(PublicClientApplication app) throws Exception {
        DeviceCodeFlowParameters params = DeviceCodeFlowParameters.builder(USER_SCOPES, code -> {
            try {
                admin("POST", "device_codes/approve", "{\"user_code\":\"" + code.userCode() + "\"}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }).build();
        IAuthenticationResult result = app.acquireToken(params).get();
        check(result.accessToken() != null, "an access token");
        return result.account();
    }

    static void clientCredentials() throws Exception {
        IAuthenticationResult r = confidential(SECRET)
                .acquireToken(ClientCredentialParameters.builder(GRAPH_DEFAULT).build()).get();
        check(r.accessToken() != null, "an access token");
        equal(List.of("200"), tokenStatuses(), "token requests");
    }

    static void deviceCodeThenRefresh() throws Exception {
        PublicClientApplication app = publicApp();
        IAccount account = signIn(app);
        equal("ada@emulator.idflow.test", account.username(), "account");
        IAuthenticationResult r = app.acquireTokenSilently(
                refresh(account).build()).get();
        check(r.accessToken() != null, "a refreshed access token");
        String log = admin("GET", "requests", null);
        check(log.contains("\"grant_type\":\"refresh_token\""), "a refresh_token request in " + log);
        equal(List.of("200", "200"), tokenStatuses(), "token requests");
    }

    static void claimsChallenge() throws Exception {
        PublicClientApplication app = publicApp();
        IAccount account = signIn(app);
        String challenge = "{\"access_token\":{\"acrs\":{\"essential\":true,\"value\":\"c1\"}}}";
        admin("POST", "faults", "{\"match\":{\"endpoint\":\"token\",\"grant_type\":\"refresh_token\"},"
                + "\"count\":null,\"effect\":{\"kind\":\"require_claims\",\"claims\":"
                + "\"" + challenge.replace("\"", "\\\"") + "\"}}");
        Throwable t = failure(app.acquireTokenSilently(refresh(account).build()));
        // msal4j raises MsalInteractionRequiredException only for invalid_grant
        // with an interaction suberror; `interaction_required` (a Conditional
        // Access claims challenge) arrives as a plain MsalServiceException
        // whose claims() the app passes back
        // (msal4j-sdk/src/main/java/com/microsoft/aad/msal4j/MsalServiceExceptionFactory.java).
        check(t instanceof MsalServiceException && !(t instanceof MsalInteractionRequiredException),
                "a plain MsalServiceException, got " + t);
        MsalServiceException e = (MsalServiceException) t;
        equal("interaction_required", e.errorCode(), "errorCode");
        equal(400, e.statusCode(), "statusCode");
        equal(challenge, e.claims(), "claims");
        IAuthenticationResult r = app.acquireTokenSilently(refresh(account)
                .claims(ClaimsRequest.formatAsClaimsRequest(e.claims())).build()).get();
        check(r.accessToken() != null, "the retry with claims succeeds");
    }

    static void consentRequired() throws Exception {
        PublicClientApplication app = publicApp();
        IAccount account = signIn(app);
        admin("POST", "presets/consent_required", "{}");
        Throwable t = failure(app.acquireTokenSilently(
                refresh(account).build()));
        check(t instanceof MsalInteractionRequiredException, "MsalInteractionRequiredException, got " + t);
        MsalInteractionRequiredException e = (MsalInteractionRequiredException) t;
        equal("invalid_grant", e.errorCode(), "errorCode");
        equal(InteractionRequiredExceptionReason.CONSENT_REQUIRED, e.reason(), "reason");
    }

    static void throttled() throws Exception {
        admin("POST", "presets/throttled_429", "{}");
        Throwable t = failure(confidential(SECRET)
                .acquireToken(ClientCredentialParameters.builder(GRAPH_DEFAULT).build()));
        check(t instanceof MsalServiceException, "MsalServiceException, got " + t);
        MsalServiceException e = (MsalServiceException) t;
        equal("temporarily_unavailable", e.errorCode(), "errorCode");
        equal(429, e.statusCode(), "statusCode");
        equal(List.of("30"), e.headers().get("Retry-After") != null ? e.headers().get("Retry-After")
                : e.headers().get("retry-after"), "Retry-After header");
    }

    static void serverError() throws Exception {
        admin("POST", "presets/service_unavailable_503", "{}");
        Throwable t = failure(confidential(SECRET)
                .acquireToken(ClientCredentialParameters.builder(GRAPH_DEFAULT).build()));
        check(t instanceof MsalServiceException, "MsalServiceException, got " + t);
        // msal4j parses the body before it looks at the status: an HTML 503
        // is a JSON parsing failure, without the status.
        equal("MsalJsonParsingException", t.getClass().getSimpleName(), "exception class");
        equal("invalid_json", ((MsalServiceException) t).errorCode(), "errorCode");
        equal(List.of("503"), tokenStatuses(), "token requests (no retry)");
    }

    static void wrongSecret() throws Exception {
        Throwable t = failure(confidential("not-the-secret")
                .acquireToken(ClientCredentialParameters.builder(GRAPH_DEFAULT).build()));
        check(t instanceof MsalServiceException, "MsalServiceException, got " + t);
        MsalServiceException e = (MsalServiceException) t;
        equal("invalid_client", e.errorCode(), "errorCode");
        equal(401, e.statusCode(), "statusCode");
    }

    static void declined() throws Exception {
        DeviceCodeFlowParameters params = DeviceCodeFlowParameters.builder(USER_SCOPES, code -> {
            try {
                admin("POST", "device_codes/decline", "{\"user_code\":\"" + code.userCode() + "\"}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }).build();
        Throwable t = failure(publicApp().acquireToken(params));
        check(t instanceof MsalServiceException, "MsalServiceException, got " + t);
        equal("authorization_declined", ((MsalServiceException) t).errorCode(), "errorCode");
    }
}
