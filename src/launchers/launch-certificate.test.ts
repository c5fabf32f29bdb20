import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { createServer, TLSSocket, type Server } from "node:tls";
import { launchTlsSchema } from "../helper/protocol.js";
import { TargetPins } from "../proxy/target-connection.js";
import { makeLaunchCertificate, type LaunchCertificate } from "./launch-certificate.js";

/** Now, in whole seconds as X.509 states times: the handshakes below check validity on the real clock. */
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const HOUR_MS = 3600 * 1000;

interface Listening {
  readonly server: Server;
  readonly port: number;
  /** Handshakes the server completed, and what it read on them. */
  readonly completed: TLSSocket[];
  readonly received: Buffer[];
}

/** A TLS server that presents `launch`'s key and certificate and records what reaches it. */
async function listenWith(launch: LaunchCertificate): Promise<Listening> {
  const completed: TLSSocket[] = [];
  const received: Buffer[] = [];
  const server = createServer({ key: launch.key, cert: launch.certificate }, (socket) => {
    completed.push(socket);
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("error", () => undefined);
  });
  // A refused handshake is the expected outcome of some cases below.
  server.on("tlsClientError", () => undefined);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(typeof address === "object" && address !== null);
  return { server, port: address.port, completed, received };
}

/** Connects through the proxy's pins, trusting `certificate`; resolves how the handshake ended. */
function connectPinned(port: number, certificate: string): Promise<"connected" | Error> {
  return new Promise((resolve) => {
    const socket = new TargetPins().connect({ kind: "tls", host: "127.0.0.1", port, certificate });
    socket.once("secureConnect", () => {
      socket.end("GET /user/alice/api/status HTTP/1.1\r\nAuthorization: token secret-token\r\n\r\n");
      resolve("connected");
    });
    socket.once("error", (err) => resolve(err));
  });
}

describe("a launch's key and certificate", () => {
  let launch: LaunchCertificate;
  let other: LaunchCertificate;

  before(async () => {
    [launch, other] = await Promise.all([
      makeLaunchCertificate({ now: NOW, seconds: 2 * 3600 }),
      makeLaunchCertificate({ now: NOW, seconds: 2 * 3600 }),
    ]);
  });

  it("is an ECDSA P-256 key with a self-signed end-entity certificate for it", () => {
    const cert = new X509Certificate(launch.certificate);
    const key = createPrivateKey(launch.key);
    assert.ok(cert.checkPrivateKey(key));
    assert.equal(key.asymmetricKeyType, "ec");
    assert.deepEqual(key.asymmetricKeyDetails, { namedCurve: "prime256v1" });
    assert.equal(cert.issuer, cert.subject, "self-issued");
    assert.ok(cert.verify(cert.publicKey), "self-signed");
    assert.equal(cert.ca, false, "it can vouch for nothing but itself");
    assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.1"], "TLS server authentication only");
  });

  it("is valid from an hour before it was made until a day after the launch's time", () => {
    const cert = new X509Certificate(launch.certificate);
    assert.equal(new Date(cert.validFrom).getTime(), NOW.getTime() - HOUR_MS);
    assert.equal(new Date(cert.validTo).getTime(), NOW.getTime() + 2 * HOUR_MS + 24 * HOUR_MS);
  });

  it("shares nothing with another launch's", () => {
    const a = new X509Certificate(launch.certificate);
    const b = new X509Certificate(other.certificate);
    assert.notEqual(a.fingerprint256, b.fingerprint256);
    assert.notEqual(a.serialNumber, b.serialNumber);
    assert.ok(!a.checkPrivateKey(createPrivateKey(other.key)));
  });

  it("is PEM exactly as the helper's protocol accepts it", () => {
    assert.ok(launchTlsSchema.safeParse(launch).success);
    assert.ok(
      !launchTlsSchema.safeParse({ key: other.key, certificate: launch.certificate }).success,
      "a key that is not the certificate's is refused",
    );
  });

  describe("through the proxy's pinned TLS", () => {
    let listening: Listening;
    before(async () => {
      listening = await listenWith(launch);
    });
    after(() => listening.server.close());

    it("completes the handshake with the server that holds the launch's key", async () => {
      // In TLS 1.3 the client is done first: the server's side is awaited on its own.
      const accepted = once(listening.server, "secureConnection");
      assert.equal(await connectPinned(listening.port, launch.certificate), "connected");
      const [socket] = await accepted;
      assert.ok(socket instanceof TLSSocket);
      await once(socket, "end");
      assert.match(Buffer.concat(listening.received).toString(), /^GET \/user\/alice\/api\/status /);
    });

    it("fails against a server of another launch, which then received no request", async () => {
      const impostor = await listenWith(other);
      try {
        // The impostor's side is judged once it has seen the handshake end, not before.
        const refused = once(impostor.server, "tlsClientError");
        const outcome = await connectPinned(impostor.port, launch.certificate);
        assert.ok(outcome instanceof Error, "the handshake must fail");
        await refused;
        assert.equal(impostor.completed.length, 0, "the impostor completed no handshake");
        assert.equal(impostor.received.length, 0, "and read nothing");
      } finally {
        impostor.server.close();
      }
    });
  });
});
