import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { FirstAdminGate } from "../http/context.js";
import type { Randomness } from "../services/identity-service.js";
import { writePrivateFile } from "./data-dir.js";

/** The first-admin link: a secret whose hash sits in the data directory until it is used. */
export function firstAdminGate(
  dataDir: string,
  random: Randomness,
  countUsers: () => Promise<number>,
): FirstAdminGate & {
  issue(): Promise<string>;
} {
  const file = join(dataDir, "first-admin.json");
  const read = async (): Promise<{ hash: string; expiresAt: number } | undefined> => {
    try {
      const data: unknown = JSON.parse(await readFile(file, "utf8"));
      if (
        typeof data === "object" &&
        data !== null &&
        "hash" in data &&
        "expiresAt" in data &&
        typeof data.hash === "string" &&
        typeof data.expiresAt === "number"
      ) {
        return { hash: data.hash, expiresAt: data.expiresAt };
      }
    } catch {
      return undefined;
    }
    return undefined;
  };
  return {
    async issue() {
      const secret = random.token();
      const entry = { hash: random.sha256(secret), expiresAt: Date.now() + 7 * 86_400_000 };
      await writePrivateFile(file, JSON.stringify(entry));
      return secret;
    },
    async isOpen() {
      const entry = await read();
      return entry !== undefined && entry.expiresAt > Date.now() && (await countUsers()) === 0;
    },
    async consume(secret) {
      const entry = await read();
      if (!entry || entry.expiresAt <= Date.now() || random.sha256(secret) !== entry.hash) return false;
      if ((await countUsers()) > 0) return false;
      await rm(file, { force: true });
      return true;
    },
  };
}

/** How the first admin comes to be, told at start while the hub has no account. */
export interface FirstAdminOffer {
  /** The one-time link's secret (built-in accounts: the page sets a password). */
  readonly secret: string | undefined;
  /** With a provider or a front door, where people sign in: what to do instead. */
  readonly hint: string | undefined;
}

export async function offerFirstAdmin(
  gate: { issue(): Promise<string> },
  { noAccounts, keepsPasswords }: { noAccounts: boolean; keepsPasswords: boolean },
): Promise<FirstAdminOffer> {
  if (!noAccounts) return { secret: undefined, hint: undefined };
  if (keepsPasswords) return { secret: await gate.issue(), hint: undefined };
  return {
    secret: undefined,
    hint: "No accounts exist yet. Sign in as a member of one of auth.access.adminGroups, or make the first admin with: slipway user add NAME --admin",
  };
}
