package dev.idflow.bench;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * msal's unified cache JSON for N users, each with an access token, a
 * refresh token, an id token and an account, as both libraries read it. The
 * id tokens are real (unsigned, {@code alg: none}) JWTs: MSAL for Java
 * decodes each account's id token in {@code getAccounts()}.
 */
final class CacheJson {
    static final String HOST = "login.microsoftonline.com";
    static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    static final String CLIENT = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10";
    static final String AUTHORITY = "https://" + HOST + "/" + TENANT;
    static final String SCOPE = "https://graph.microsoft.com/User.Read";
    /** A scope no cached access token holds. */
    static final String MISS_SCOPE = "https://graph.microsoft.com/Mail.Read";

    private CacheJson() {}

    static String uid(int n) {
        return String.format("%08x-0000-4000-8000-%012x", n, n);
    }

    static String username(int n) {
        return "user" + n + "@contoso.com";
    }

    private static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String idToken(int n, long now) {
        String header = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        String claims = b64("{\"aud\":\"" + CLIENT + "\",\"iss\":\"https://" + HOST + "/" + TENANT
                + "/v2.0\",\"iat\":" + now + ",\"nbf\":" + now + ",\"exp\":" + (now + 3600)
                + ",\"name\":\"User " + n + "\",\"oid\":\"" + uid(n) + "\",\"preferred_username\":\""
                + username(n) + "\",\"sub\":\"sub-" + n + "\",\"tid\":\"" + TENANT + "\",\"ver\":\"2.0\"}");
        return header + "." + claims + ".";
    }

    private static String secret(String kind, int n) {
        // Token-shaped and unique, about the size of a real access token's header and claims.
        StringBuilder sb = new StringBuilder(kind).append('.').append(n).append('.');
        while (sb.length() < 600) sb.append("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9");
        return sb.toString();
    }

    static String build(int users) {
        long now = System.currentTimeMillis() / 1000;
        StringBuilder at = new StringBuilder(), rt = new StringBuilder(), idt = new StringBuilder(),
                acc = new StringBuilder();
        String target = SCOPE.toLowerCase();
        for (int n = 0; n < users; n++) {
            String home = uid(n) + "." + TENANT;
            String sep = n == 0 ? "" : ",";
            at.append(sep).append('"').append(home).append('-').append(HOST).append("-accesstoken-")
                    .append(CLIENT).append('-').append(TENANT).append('-').append(target).append("\":{")
                    .append("\"credential_type\":\"AccessToken\",\"secret\":\"").append(secret("at", n))
                    .append("\",\"home_account_id\":\"").append(home).append("\",\"environment\":\"").append(HOST)
                    .append("\",\"client_id\":\"").append(CLIENT).append("\",\"target\":\"").append(SCOPE)
                    .append("\",\"realm\":\"").append(TENANT).append("\",\"token_type\":\"Bearer\",\"cached_at\":\"")
                    .append(now).append("\",\"expires_on\":\"").append(now + 3600)
                    .append("\",\"extended_expires_on\":\"").append(now + 7200).append("\"}");
            rt.append(sep).append('"').append(home).append('-').append(HOST).append("-refreshtoken-")
                    .append(CLIENT).append("--\":{\"credential_type\":\"RefreshToken\",\"secret\":\"")
                    .append(secret("rt", n)).append("\",\"home_account_id\":\"").append(home)
                    .append("\",\"environment\":\"").append(HOST).append("\",\"client_id\":\"").append(CLIENT)
                    .append("\"}");
            idt.append(sep).append('"').append(home).append('-').append(HOST).append("-idtoken-")
                    .append(CLIENT).append('-').append(TENANT).append("-\":{\"credential_type\":\"IdToken\",\"secret\":\"")
                    .append(idToken(n, now)).append("\",\"home_account_id\":\"").append(home)
                    .append("\",\"environment\":\"").append(HOST).append("\",\"client_id\":\"").append(CLIENT)
                    .append("\",\"realm\":\"").append(TENANT).append("\"}");
            acc.append(sep).append('"').append(home).append('-').append(HOST).append('-').append(TENANT)
                    .append("\":{\"home_account_id\":\"").append(home).append("\",\"environment\":\"").append(HOST)
                    .append("\",\"realm\":\"").append(TENANT).append("\",\"local_account_id\":\"").append(uid(n))
                    .append("\",\"username\":\"").append(username(n)).append("\",\"name\":\"User ").append(n)
                    .append("\",\"authority_type\":\"MSSTS\"}");
        }
        return "{\"AccessToken\":{" + at + "},\"RefreshToken\":{" + rt + "},\"IdToken\":{" + idt
                + "},\"Account\":{" + acc + "},\"AppMetadata\":{}}";
    }
}
