import { X509Certificate } from "node:crypto";
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type RequestOptions,
} from "node:http";
import {
  Agent as HttpsAgent,
  request as httpsRequest,
  type RequestOptions as TlsRequestOptions,
} from "node:https";
import { connect as netConnect, type OnReadOpts, type Socket } from "node:net";
import { connect as tlsConnect, type PeerCertificate } from "node:tls";
import type { ServerTarget, TlsTarget } from "../domain/types.js";

/*
 * Every connection to a user's server starts here (architecture invariant 9): a Unix socket that
 * only the server's owner could have created, or TLS that trusts exactly the certificate of the
 * server's launch. Nothing else is ever dialled, so a process that took over a freed port gets at
 * most a TLS handshake it cannot finish, and never a request, a token or a cookie.
 */

interface Pin {
  readonly ca: string[];
  readonly checkServerIdentity: (host: string, peer: PeerCertificate) => Error | undefined;
}

/** Parsed pins by certificate: a route's every connection checks against the same parse. */
const PIN_CACHE_LIMIT = 4096;

export class TargetPins {
  private readonly pins = new Map<string, Pin>();

  /** TLS options that accept the launch's own certificate and nothing else. */
  pinFor(target: TlsTarget): Pin {
    let pin = this.pins.get(target.certificate);
    if (pin === undefined) {
      const expected = new X509Certificate(target.certificate).fingerprint256;
      pin = {
        // The certificate is its own (and only) trust anchor: the handshake succeeds only for a
        // peer that holds its private key.
        ca: [target.certificate],
        // A launch's certificate names no host (the node is known only once the job runs);
        // the fingerprint is checked instead, on top of the chain that `ca` already verified.
        checkServerIdentity: (_host, peer) =>
          peer.fingerprint256 === expected
            ? undefined
            : new Error("the server presented a certificate other than its launch's"),
      };
      if (this.pins.size >= PIN_CACHE_LIMIT) this.pins.clear();
      this.pins.set(target.certificate, pin);
    }
    return pin;
  }

  /** A raw connection (the fast path's pool, the target watch). */
  connect(target: ServerTarget, onread?: OnReadOpts): Socket {
    if (target.kind === "unix") {
      return netConnect(onread ? { path: target.socket, onread } : { path: target.socket });
    }
    const pin = this.pinFor(target);
    return tlsConnect({
      host: target.host,
      port: target.port,
      ...pin,
      rejectUnauthorized: true,
      ...(onread ? { onread } : {}),
    });
  }

  /** Options for `node:http`'s client that reach `target` and nothing else. */
  requestOptions(target: ServerTarget): TlsRequestOptions {
    if (target.kind === "unix") return { socketPath: target.socket };
    return {
      protocol: "https:",
      host: target.host,
      port: target.port,
      ...this.pinFor(target),
      rejectUnauthorized: true,
    };
  }

  /** One request without a pooled connection (readiness probes, websocket upgrades). */
  request(target: ServerTarget, options: RequestOptions): ClientRequest {
    // `agent: false`: a connection of its own, closed after the exchange.
    const merged = { ...options, ...this.requestOptions(target), agent: false as const };
    return target.kind === "unix" ? httpRequest(merged) : httpsRequest(merged);
  }
}

/** Keep-alive pools for `node:http`'s client, one per kind of channel. */
export class TargetAgents {
  readonly unix: HttpAgent;
  readonly tls: HttpsAgent;

  constructor(maxSockets: number) {
    const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: "lifo" as const };
    this.unix = new HttpAgent(options);
    this.tls = new HttpsAgent(options);
  }

  for(target: ServerTarget): HttpAgent {
    return target.kind === "unix" ? this.unix : this.tls;
  }

  destroy(): void {
    this.unix.destroy();
    this.tls.destroy();
  }
}
