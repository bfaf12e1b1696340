package dev.belfry.bench.http;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.client.HttpClient;
import dev.belfry.http.client.Protocol;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/** The clients {@link LoadClient} drives, each set up for {@code inFlight} concurrent requests. */
final class Callers {
    private static final int MAX_BODY = 1 << 20;

    private Callers() {}

    /** Belfry's {@link HttpClient}: one I/O thread; HTTP/1.1 pool of inFlight, or one h2c connection. */
    static LoadClient.Caller belfry(URI url, boolean h2, int inFlight) {
        HttpClient client = HttpClient.builder(url.getHost(), url.getPort())
                .protocol(h2 ? Protocol.H2C : Protocol.HTTP_1_1)
                .maxConnections(h2 ? 1 : inFlight)
                .ioThreads(1)
                .build();
        String target = url.getRawPath();
        return new LoadClient.Caller() {
            @Override
            public void get(java.util.function.Consumer<@org.jspecify.annotations.Nullable Throwable> done) {
                client.call(HttpRequest.get(target))
                        .thenCompose(response -> response.body().collectBytes(MAX_BODY))
                        .whenComplete((body, failure) -> done.accept(failure));
            }

            @Override
            public void close() {
                client.close();
            }
        };
    }

    /** Armeria's {@link WebClient}: one worker event loop; h2c by prior knowledge (the preface). */
    static LoadClient.Caller armeria(URI url, boolean h2) {
        ClientFactory factory =
                ClientFactory.builder().workerGroup(1).useHttp2Preface(true).build();
        WebClient client = WebClient.builder((h2 ? "h2c" : "h1c") + "://" + url.getHost() + ":" + url.getPort())
                .factory(factory)
                .build();
        String target = url.getRawPath();
        return new LoadClient.Caller() {
            @Override
            public void get(java.util.function.Consumer<@org.jspecify.annotations.Nullable Throwable> done) {
                client.get(target).aggregate().whenComplete((response, failure) -> done.accept(failure));
            }

            @Override
            public void close() {
                factory.close();
            }
        };
    }

    /**
     * The JDK's {@link java.net.http.HttpClient} with its defaults; for h2c it asks for HTTP/2, which
     * on {@code http://} it reaches by the HTTP/1.1 Upgrade (it has no prior-knowledge mode).
     */
    static LoadClient.Caller jdk(URI url, boolean h2) {
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
                .version(h2 ? java.net.http.HttpClient.Version.HTTP_2 : java.net.http.HttpClient.Version.HTTP_1_1)
                .build();
        java.net.http.HttpRequest request =
                java.net.http.HttpRequest.newBuilder(url).build();
        return new LoadClient.Caller() {
            @Override
            public void get(java.util.function.Consumer<@org.jspecify.annotations.Nullable Throwable> done) {
                client.sendAsync(request, BodyHandlers.ofByteArray())
                        .whenComplete((response, failure) -> done.accept(failure));
            }

            @Override
            public void close() {
                client.close();
            }
        };
    }

    /** OkHttp 5 with its dispatcher and pool sized for inFlight; h2c by prior knowledge. */
    static LoadClient.Caller okhttp(URI url, boolean h2, int inFlight) {
        var dispatcher = new Dispatcher();
        dispatcher.setMaxRequests(inFlight);
        dispatcher.setMaxRequestsPerHost(inFlight);
        OkHttpClient client = new OkHttpClient.Builder()
                .dispatcher(dispatcher)
                .connectionPool(new ConnectionPool(inFlight, 5, TimeUnit.MINUTES))
                .protocols(h2 ? List.of(okhttp3.Protocol.H2_PRIOR_KNOWLEDGE) : List.of(okhttp3.Protocol.HTTP_1_1))
                .build();
        Request request = new Request.Builder().url(url.toString()).build();
        return new LoadClient.Caller() {
            @Override
            public void get(java.util.function.Consumer<@org.jspecify.annotations.Nullable Throwable> done) {
                client.newCall(request).enqueue(new Callback() {
                    @Override
                    public void onFailure(Call call, IOException e) {
                        done.accept(e);
                    }

                    @Override
                    public void onResponse(Call call, Response response) {
                        try (response) {
                            response.body().bytes();
                        } catch (IOException | RuntimeException e) {
                            done.accept(e);
                            return;
                        }
                        done.accept(null);
                    }
                });
            }

            @Override
            public void close() {
                client.dispatcher().executorService().shutdown();
                client.connectionPool().evictAll();
            }
        };
    }

    /** Vert.x's web client on one event loop with the native transport; h2c by prior knowledge. */
    static LoadClient.Caller vertx(URI url, boolean h2, int inFlight) {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true));
        var options = new WebClientOptions()
                .setDefaultHost(url.getHost())
                .setDefaultPort(url.getPort())
                .setProtocolVersion(h2 ? HttpVersion.HTTP_2 : HttpVersion.HTTP_1_1)
                .setHttp2ClearTextUpgrade(false);
        var pool = new PoolOptions().setHttp1MaxSize(inFlight).setHttp2MaxSize(1);
        io.vertx.ext.web.client.WebClient client = io.vertx.ext.web.client.WebClient.create(vertx, options, pool);
        String target = url.getRawPath();
        return new LoadClient.Caller() {
            @Override
            public void get(java.util.function.Consumer<@org.jspecify.annotations.Nullable Throwable> done) {
                client.get(target).send().onComplete(result -> done.accept(result.failed() ? result.cause() : null));
            }

            @Override
            public void close() {
                client.close();
                vertx.close();
            }
        };
    }
}
