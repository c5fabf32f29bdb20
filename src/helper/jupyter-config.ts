export interface JupyterConfigInput {
  readonly token: string;
  readonly baseUrl: string;
  readonly rootDir: string;
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
  const common: Section = {
    token: input.token,
    base_url: input.baseUrl,
    ip: "127.0.0.1",
    // Port 0: the kernel picks a free port atomically at bind time, so two servers never race
    // for one; the hub learns the port from /proc afterwards.
    port: 0,
    port_retries: 0,
    open_browser: false,
    // The proxy forwards the browser's Host header; with the default (false) a server bound to
    // 127.0.0.1 answers 403 to any Host that is not local. It still listens on loopback only
    // and still requires the token.
    allow_remote_access: true,
  };
  if (input.allowRoot) common["allow_root"] = true;
  return {
    NotebookApp: { ...common, notebook_dir: input.rootDir },
    ServerApp: { ...common, root_dir: input.rootDir },
  };
}
