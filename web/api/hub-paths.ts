// The hub's URLs that the pages call or link to. A user's default server has the empty name and
// no path segment of its own.

const enc = encodeURIComponent;

function serverSuffix(server: string): string {
  return server ? `/${enc(server)}` : "";
}

export function userApiPath(user: string): string {
  return `/hub/api/users/${enc(user)}`;
}

export function serverApiPath(user: string, server: string): string {
  return server === "" ? `${userApiPath(user)}/server` : `${userApiPath(user)}/servers/${enc(server)}`;
}

/** Server-sent changes of all of a user's servers. */
export function userEventsPath(user: string): string {
  return `${userApiPath(user)}/events`;
}

export function tokensApiPath(user: string): string {
  return `${userApiPath(user)}/tokens`;
}

export function spawnPage(user: string, server: string): string {
  return `/hub/spawn/${enc(user)}${serverSuffix(server)}`;
}

export function pendingPage(user: string, server: string): string {
  return `/hub/spawn-pending/${enc(user)}${serverSuffix(server)}`;
}

export function logPage(user: string, server: string): string {
  return `/hub/log/${enc(user)}${serverSuffix(server)}`;
}
