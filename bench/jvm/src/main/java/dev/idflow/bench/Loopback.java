package dev.idflow.bench;

import com.microsoft.aad.msal4j.HttpResponse;
import com.microsoft.aad.msal4j.IHttpClient;
import com.microsoft.aad.msal4j.IHttpResponse;
import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * One JDK HTTP client that sends what both libraries address to the
 * Microsoft cloud ({@link #CLOUD}) to the emulator on 127.0.0.1 instead, so
 * that each library takes its real path for a well-known cloud (endpoints
 * built from the authority, no discovery) and both pay the same transport.
 * Each side counts its requests, so the benchmark can check that a first
 * token took exactly one.
 */
final class Loopback {
    static final String CLOUD = "https://login.microsoftonline.com";

    /** Headers the JDK sets itself and refuses from callers. */
    private static final Set<String> RESTRICTED = Set.of("connection", "content-length", "expect", "host", "upgrade");

    final HttpClient jdk = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    private final String emulator;

    Loopback(String emulator) {
        this.emulator = emulator.endsWith("/") ? emulator.substring(0, emulator.length() - 1) : emulator;
    }

    URI local(String url) {
        if (!url.startsWith(CLOUD + "/")) {
            throw new IllegalStateException("a request left the known cloud: " + url);
        }
        return URI.create(emulator + url.substring(CLOUD.length()));
    }

    /** For MSAL for Java ({@code .httpClient(...)} on its builder). */
    final class Msal implements IHttpClient {
        final AtomicLong calls = new AtomicLong();

        @Override
        public IHttpResponse send(com.microsoft.aad.msal4j.HttpRequest request) throws Exception {
            calls.incrementAndGet();
            HttpRequest.Builder b = HttpRequest.newBuilder(local(request.url().toString()))
                    .timeout(Duration.ofSeconds(10));
            if (request.headers() != null) {
                for (Map.Entry<String, String> h : request.headers().entrySet()) {
                    if (!RESTRICTED.contains(h.getKey().toLowerCase())) b.header(h.getKey(), h.getValue());
                }
            }
            String body = request.body();
            switch (request.httpMethod()) {
                case POST -> b.POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body));
                default -> b.GET();
            }
            java.net.http.HttpResponse<String> r = jdk.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            HttpResponse out = new HttpResponse().statusCode(r.statusCode()).body(r.body());
            out.addHeaders(r.headers().map());
            return out;
        }
    }

    /**
     * For idflow: the JDK client under idflow's own adapter
     * ({@code dev.idflow.JavaNetHttpClient}), with each request's address
     * moved to the emulator.
     */
    final class IdFlow extends HttpClient {
        final AtomicLong calls = new AtomicLong();

        private HttpRequest moved(HttpRequest request) {
            calls.incrementAndGet();
            return HttpRequest.newBuilder(request, (name, value) -> true).uri(local(request.uri().toString())).build();
        }

        @Override
        public <T> java.net.http.HttpResponse<T> send(HttpRequest request, java.net.http.HttpResponse.BodyHandler<T> handler)
                throws IOException, InterruptedException {
            return jdk.send(moved(request), handler);
        }

        @Override
        public <T> CompletableFuture<java.net.http.HttpResponse<T>> sendAsync(
                HttpRequest request, java.net.http.HttpResponse.BodyHandler<T> handler) {
            return jdk.sendAsync(moved(request), handler);
        }

        @Override
        public <T> CompletableFuture<java.net.http.HttpResponse<T>> sendAsync(
                HttpRequest request,
                java.net.http.HttpResponse.BodyHandler<T> handler,
                java.net.http.HttpResponse.PushPromiseHandler<T> push) {
            return jdk.sendAsync(moved(request), handler, push);
        }

        @Override public Optional<CookieHandler> cookieHandler() { return jdk.cookieHandler(); }
        @Override public Optional<Duration> connectTimeout() { return jdk.connectTimeout(); }
        @Override public Redirect followRedirects() { return jdk.followRedirects(); }
        @Override public Optional<ProxySelector> proxy() { return jdk.proxy(); }
        @Override public SSLContext sslContext() { return jdk.sslContext(); }
        @Override public SSLParameters sslParameters() { return jdk.sslParameters(); }
        @Override public Optional<Authenticator> authenticator() { return jdk.authenticator(); }
        @Override public Version version() { return jdk.version(); }
        @Override public Optional<Executor> executor() { return jdk.executor(); }
    }
}
