package dev.belfry.proxy.admin;

import java.util.List;

/** The {@code /health} document: the proxy's whole state as JSON. */
final class HealthJson {
    private HealthJson() {}

    static String render(ProxyStatus status) {
        List<ClusterStatus> clusters = status.clusters();
        List<String> reasons = Ready.reasons(status, clusters);
        Json json = new Json().beginObject();
        json.key("ready").value(reasons.isEmpty());
        json.key("not_ready_reasons").beginArray();
        for (String reason : reasons) {
            json.value(reason);
        }
        json.endArray();
        json.key("config_loaded").value(status.configLoaded());
        json.key("draining").value(status.draining());

        json.key("last_reload");
        ReloadResult reload = status.lastReload();
        if (reload == null) {
            json.nullValue();
        } else {
            json.beginObject()
                    .key("ok")
                    .value(reload.ok())
                    .key("at")
                    .value(reload.at().toString())
                    .key("problems")
                    .beginArray();
            for (String problem : reload.problems()) {
                json.value(problem);
            }
            json.endArray().endObject();
        }

        json.key("listeners").beginArray();
        for (ListenerStatus listener : status.listeners()) {
            json.beginObject()
                    .key("name")
                    .value(listener.name())
                    .key("address")
                    .value(listener.address())
                    .key("cluster")
                    .value(listener.cluster())
                    .key("active_connections")
                    .value(listener.activeConnections())
                    .key("total_connections")
                    .value(listener.totalConnections())
                    .key("rejected_connections")
                    .value(listener.rejectedConnections())
                    .endObject();
        }
        json.endArray();

        json.key("clusters").beginArray();
        for (ClusterStatus cluster : clusters) {
            json.beginObject()
                    .key("name")
                    .value(cluster.name())
                    .key("healthy_backends")
                    .value(cluster.healthyBackends())
                    .key("backends")
                    .beginArray();
            for (BackendStatus backend : cluster.backends()) {
                json.beginObject()
                        .key("address")
                        .value(backend.address())
                        .key("state")
                        .value(backend.state().label())
                        .key("healthy")
                        .value(backend.healthy())
                        .key("active_connections")
                        .value(backend.activeConnections())
                        .key("connect_failures")
                        .value(backend.connectFailures())
                        .key("last_error")
                        .value(backend.lastError())
                        .key("bytes_client_to_backend")
                        .value(backend.bytesToBackend())
                        .key("bytes_backend_to_client")
                        .value(backend.bytesToClient())
                        .endObject();
            }
            json.endArray().endObject();
        }
        json.endArray();

        json.key("recent_errors").beginArray();
        for (RecentError error : status.recentErrors()) {
            json.beginObject()
                    .key("at")
                    .value(error.at().toString())
                    .key("source")
                    .value(error.source())
                    .key("message")
                    .value(error.message())
                    .endObject();
        }
        json.endArray();
        return json.endObject().toString();
    }
}
