package dev.idflow.bench;

import com.microsoft.aad.msal4j.HttpRequest;
import com.microsoft.aad.msal4j.IHttpClient;
import com.microsoft.aad.msal4j.IHttpResponse;
import dev.idflow.ffi.HttpClientException;
import dev.idflow.ffi.HttpClientRequest;
import dev.idflow.ffi.HttpClientResponse;
import dev.idflow.ffi.NetworkKind;
import java.net.UnknownHostException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HTTP clients that fail every request at once, as if the host did not
 * resolve, so that a silent miss is measured up to the network and no
 * further: both libraries find no access token, build the refresh-token
 * request and hand it to their HTTP client, which throws. A DNS failure is
 * retried by neither library (idflow retries only timeouts; MSAL for Java's
 * {@code RetryRequestChain} / {@code DefaultRetryableExceptionPolicy} skip
 * {@code UnknownHostException}). Each counts its calls, so the benchmark can
 * check that every miss did reach the network.
 */
final class NoNetwork {
    private NoNetwork() {}

    /** For MSAL for Java ({@code .httpClient(...)} on its builder). */
    static final class Msal implements IHttpClient {
        final AtomicLong calls = new AtomicLong();

        @Override
        public IHttpResponse send(HttpRequest request) throws Exception {
            calls.incrementAndGet();
            throw new UnknownHostException("no network in this benchmark");
        }
    }

    /** For idflow ({@code .httpClient(...)} on its builder). */
    static final class IdFlow implements dev.idflow.ffi.HttpClient {
        final AtomicLong calls = new AtomicLong();

        @Override
        public HttpClientResponse send(HttpClientRequest request) {
            calls.incrementAndGet();
            // Kotlin declares no checked exception on send: thrown unchecked.
            throw NoNetwork.<RuntimeException>unchecked(
                    new HttpClientException.Failed(NetworkKind.DNS, "no network in this benchmark"));
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E unchecked(Throwable t) throws E {
        throw (E) t;
    }
}
