import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from "node:crypto";

/**
 * A key pair and a self-signed certificate made for one launch of a server that listens on TCP
 * (a batch job's, on a compute node). The proxy trusts exactly this certificate for the route
 * (`TargetPins`), so only the process that holds `key` can answer there: a process of another
 * account that binds the port once the server exited cannot complete the handshake
 * (architecture invariant 9).
 */
export interface LaunchCertificate {
  /** PKCS#8 PEM. A secret like the server's token: the helper's stdin, then a 0600 file, nowhere else. */
  readonly key: string;
  /** PEM; public. Kept in the launcher's state so the route can be rebuilt after a restart. */
  readonly certificate: string;
}

export interface LaunchCertificateValidity {
  readonly now: Date;
  /** How long, from `now`, the certificate must stay valid: the launch's queue wait and runtime. */
  readonly seconds: number;
}

/**
 * Hub replicas on other machines check the same certificate with their own clocks, so it is
 * valid from a little before it was made.
 */
const BACKDATE_MS = 60 * 60 * 1000;
/**
 * On top of the launch's own time: an administrator may extend a running job's time limit
 * (`scontrol update TimeLimit=`), and the certificate must not expire under a server that runs.
 */
const MARGIN_MS = 24 * 60 * 60 * 1000;

/** ECDSA P-256: a key made in about a millisecond, and one every TLS stack speaks. */
const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { ...KEY_ALGORITHM, hash: "SHA-256" } as const;

/**
 * Loaded on the first Slurm launch only: the X.509 library and its dependency injection
 * container are a few hundred kilobytes the hub does not read at start-up. `@peculiar/x509`
 * resolves its algorithms through tsyringe, which needs the Reflect metadata API that Node does
 * not have; the polyfill adds it to the global `Reflect` (its only effect) before the library loads.
 */
async function loadX509() {
  await import("reflect-metadata");
  // A CommonJS package: its `module.exports` is the default export both under Node's own
  // loader and in the hub's bundle, where named exports of a lazily loaded chunk are not.
  return (await import("@peculiar/x509")).default;
}

/** A fresh key pair and certificate; nothing of it is derived from or shared with another launch. */
export async function makeLaunchCertificate(validity: LaunchCertificateValidity): Promise<LaunchCertificate> {
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
  const start = validity.now.getTime();
  const made = await x509.X509CertificateGenerator.createSelfSigned(
    {
      // RFC 5280 §4.1.2.2: positive, at most 20 octets; random, as nothing needs to look it up.
      serialNumber: `01${randomBytes(15).toString("hex")}`,
      // The proxy pins the certificate itself and checks no name; this one only says what it is.
      name: "CN=slipway-server",
      notBefore: new Date(start - BACKDATE_MS),
      notAfter: new Date(start + validity.seconds * 1000 + MARGIN_MS),
      signingAlgorithm: SIGNING_ALGORITHM,
      keys,
      extensions: [
        // An end entity for TLS servers, not a CA: it can vouch for nothing but itself.
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ],
    },
    webcrypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  return {
    // Node's own PEM writers: the exact armour and line length `protocol.ts` accepts.
    key: createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })
      .export({ format: "pem", type: "pkcs8" })
      .toString(),
    certificate: new X509Certificate(Buffer.from(made.rawData)).toString(),
  };
}
