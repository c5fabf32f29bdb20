import { completeSetup, HubClient, type Account } from "./hub-client.js";
import { rememberSecret, type TestHub } from "./test-hub.js";

export interface SignedIn {
  readonly client: HubClient;
  readonly account: Account;
}

/** Creates the first admin through the one-time link the hub printed, with TOTP enrolled. */
export async function firstAdmin(hub: TestHub, name = "admin"): Promise<SignedIn> {
  if (!hub.firstAdminUrl) throw new Error("the hub printed no first-admin link");
  rememberSecret(new URL(hub.firstAdminUrl).pathname.split("/").pop() ?? "");
  const client = new HubClient(hub.url);
  const account = await completeSetup(
    client,
    new URL(hub.firstAdminUrl).pathname,
    { name, password: `pw-${name}-correct-horse` },
    { askName: true },
  );
  return { client, account };
}

/** An admin creates `name` through the API; the new user follows the set-up link. */
export async function addUser(
  hub: Pick<TestHub, "url">,
  admin: HubClient,
  name: string,
  isAdmin = false,
): Promise<SignedIn> {
  const res = await admin.api("POST", `/hub/api/users/${name}`, { admin: isAdmin });
  if (res.status !== 201) throw new Error(`creating ${name} answered ${res.status}: ${await res.text()}`);
  const body: unknown = await res.json();
  const setupUrl =
    typeof body === "object" && body !== null && "setup_url" in body && typeof body.setup_url === "string"
      ? body.setup_url
      : "";
  rememberSecret(new URL(setupUrl).pathname.split("/").pop() ?? "");
  const client = new HubClient(hub.url);
  const account = await completeSetup(
    client,
    new URL(setupUrl).pathname,
    { name, password: `pw-${name}-correct-horse` },
    { askName: false },
  );
  return { client, account };
}

/** Creates an API token for the signed-in user and returns it. */
export async function apiToken(session: SignedIn, scopes?: string[]): Promise<string> {
  const res = await session.client.api("POST", `/hub/api/users/${session.account.name}/tokens`, {
    note: "test",
    ...(scopes ? { scopes } : {}),
  });
  if (res.status !== 201) throw new Error(`token creation answered ${res.status}: ${await res.text()}`);
  const body: unknown = await res.json();
  if (typeof body !== "object" || body === null || !("token" in body) || typeof body.token !== "string") {
    throw new Error("no token in answer");
  }
  rememberSecret(body.token);
  return body.token;
}
