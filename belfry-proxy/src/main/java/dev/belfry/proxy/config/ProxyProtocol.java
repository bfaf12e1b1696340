package dev.belfry.proxy.config;

/** Whether, and in which version, a PROXY protocol header is expected or sent. */
public enum ProxyProtocol {
    NONE,
    V1,
    V2
}
