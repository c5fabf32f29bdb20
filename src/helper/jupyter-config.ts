export interface JupyterConfigInput {
  readonly token: string;
  readonly baseUrl: string;
  readonly rootDir: string;
  /** Where the server listens: a Unix socket path, or a TCP port on every interface with TLS. */
  readonly listen:
    { readonly socket: string } | { readonly tls: { readonly certfile: string; readonly keyfile: string } };
  /** Jupyter refuses to start as uid 0 unless told; only then is it set. */
  readonly allowRoot: boolean;
}

type Section = Record<string, string | number | boolean>;

/**
 * The JSON config handed to the server with `--config=`. Both sections are written because
 * `jupyter notebook` (classic, 6.x) reads NotebookApp and `jupyter server`/`jupyter lab` read
 * ServerApp; each ignores the other's. This file is the only place the token exists on disk.
 */
export function jupyterConfig(input: JupyterConfigInput): Record<"NotebookApp" | "ServerApp", Section> {
  const listen: Section =
    "socket" in input.listen
      ? {
          sock: input.listen.socket,
          // The hub's account must be able to connect; the socket's directory, which only the
          // owner can write to, is what makes it the owner's (invariant 9), and the token still
          // guards every request.
          sock_mode: "0666",
        }
      : {
          // The hub reaches a batch job's server on the node Slurm names, so it listens on every
          // interface, but only over TLS with this launch's own key, which the proxy pins.
          ip: "0.0.0.0",
          // Port 0: the kernel picks a free port atomically at bind time, so two servers never
          // race for one; the job's agent reads the port from /proc afterwards.
          port: 0,
          port_retries: 0,
          certfile: input.listen.tls.certfile,
          keyfile: input.listen.tls.keyfile,
        };
  const common: Section = {
    token: input.token,
    base_url: input.baseUrl,
    ...listen,
    open_browser: false,
    // The proxy forwards the browser's Host header; with the default (false) Jupyter answers 403
    // to any Host that is not local. Requests still arrive only over the channel above, and still
    // need the token.
    allow_remote_access: true,
  };
  if (input.allowRoot) common["allow_root"] = true;
  return {
    NotebookApp: { ...common, notebook_dir: input.rootDir },
    ServerApp: { ...common, root_dir: input.rootDir },
  };
}
