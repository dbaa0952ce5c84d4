package dev.idflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.idflow.ffi.CancelHandle;
import dev.idflow.ffi.ClientCredential;
import dev.idflow.ffi.DeviceCodeFlow;
import dev.idflow.ffi.ErrorKind;
import dev.idflow.ffi.TokenCache;
import dev.idflow.ffi.TokenResult;
import dev.idflow.ffi.UrlOpener;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The blocking surface as a Java caller writes it: no coroutines, checked-free
 * exceptions, the generated records imported from dev.idflow.ffi.
 */
class JavaCallerTest {
    private static final String CONFIDENTIAL = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10";
    private static final String PUBLIC = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e01";

    private static String emulator() {
        String url = Servers.INSTANCE.getEmulatorUrl();
        assertNotNull(url, "IDFLOW_EMULATOR_URL unset: run scripts/test-kotlin.sh");
        return url;
    }

    private static ConfidentialClientApplication confidentialApp() {
        return new ConfidentialClientApplication(
                CONFIDENTIAL, emulator() + "/emulator.idflow.test",
                new ClientCredential.Secret("emulator-secret-do-not-use-in-production"));
    }

    @Test
    void clientCredentialsFromJava() {
        try (ConfidentialClientApplication app = confidentialApp()) {
            TokenResult r = app.acquireTokenForClientBlocking(List.of("api://" + CONFIDENTIAL + "/.default"));
            assertFalse(r.getAccessToken().isEmpty());
        }
    }

    /**
     * MSAL for Java's serialize / deserialize, as a Java caller reaches them
     * (the Kotlin extensions are static methods of IdFlowCache).
     */
    @Test
    void cacheSerializedAndRestoredFromJava() {
        try (ConfidentialClientApplication app = confidentialApp()) {
            app.acquireTokenForClientBlocking(List.of("api://" + CONFIDENTIAL + "/.default"));
            String state = IdFlowCache.serialize(app.getTokenCache());
            assertTrue(state.contains("\"AccessToken\""), "the document holds the app token");
            TokenCache copy = new TokenCache();
            IdFlowCache.deserialize(copy, state);
            assertEquals(state, IdFlowCache.serialize(copy));
            ClientException bad = assertThrows(ClientException.class, () -> IdFlowCache.deserialize(copy, "{"));
            assertEquals("invalid_cache_format", bad.getErrorCode());
            assertEquals(state, IdFlowCache.serialize(copy), "a failed deserialize changes nothing");
            IdFlowCache.deserialize(copy, null);
            IdFlowCache.deserialize(copy, " ");
            assertEquals(state, IdFlowCache.serialize(copy), "null or blank changes nothing, as in MSAL for Java");
        }
    }

    @Test
    void errorsAreTheHierarchyFromJava() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        PublicClientApplication app = new PublicClientApplication(PUBLIC, "http://127.0.0.1:" + port + "/organizations");
        try {
            app.acquireTokenByUsernamePasswordBlocking("ada@emulator.idflow.test", "pw", List.of("User.Read"));
            fail("expected a ClientException");
        } catch (ServiceException e) {
            fail("a network failure is not a ServiceException: " + e);
        } catch (ClientException e) {
            assertTrue(e.getCause() instanceof ConnectException, String.valueOf(e.getCause()));
            assertTrue(e.isRetryable() || !e.isRetryable());
            assertFalse(e.getMitigation().isEmpty());
        }

        ClientException bad = assertThrows(ClientException.class, () -> new PublicClientApplication(PUBLIC, "not a url"));
        assertEquals(ErrorKind.CLIENT, bad.getInfo().getKind());
    }

    @Test
    void cancelHandleFromJava() {
        String base = emulator();
        PublicClientApplication app = new PublicClientApplication(PUBLIC, base + "/organizations");
        DeviceCodeFlow flow = app.initiateDeviceFlowBlocking(List.of("User.Read"));
        CancelHandle cancel = new CancelHandle();
        cancel.cancel();
        ClientException e = assertThrows(ClientException.class, () -> app.acquireTokenByDeviceFlowBlocking(flow, cancel));
        assertEquals("user_cancelled", e.getErrorCode());
        UrlOpener opener = IdFlowApplications.urlOpener(url -> { });
        assertTrue(opener != null);
    }
}
