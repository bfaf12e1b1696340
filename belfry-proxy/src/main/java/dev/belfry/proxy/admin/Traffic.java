package dev.belfry.proxy.admin;

import dev.belfry.Checks;

/**
 * Bytes relayed between the clients of one listener and one backend, since the backend appeared.
 *
 * @param listener the listener the client connections arrived on
 * @param clientToBackend bytes read from clients and written to the backend
 * @param backendToClient bytes read from the backend and written to clients
 */
public record Traffic(String listener, long clientToBackend, long backendToClient) {
    public Traffic {
        Checks.notNull(listener, "listener");
    }
}
