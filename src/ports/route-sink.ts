import type { ServerTarget } from "../domain/types.js";

/** Where running servers are announced; the proxy's route table implements it. */
export interface RouteSink {
  setRoute(route: {
    serverId: number;
    owner: string;
    serverName: string;
    target: ServerTarget;
    token: string;
  }): void;
  removeRoute(owner: string, serverName: string): void;
}
