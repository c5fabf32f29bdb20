/** The path parameters of a server's routes: the default server's have no `server`. */
export interface ServerParams {
  readonly name: string;
  readonly server?: string;
}

/** The server a route names: "" for the default server. */
export function serverNameOf(params: ServerParams): string {
  return params.server ?? "";
}
