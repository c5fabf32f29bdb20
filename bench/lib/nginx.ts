import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { http } from "./http.js";
import { NGINX_BIN } from "./paths.js";
import type { ManagedProcess, Supervisor } from "./supervisor.js";

export interface Nginx {
  readonly process: ManagedProcess;
  readonly url: string;
}

/**
 * Debian's nginx as a reverse proxy to `target`, the way a centre puts one in front of a hub:
 * one process (`master_process off`, so its CPU is one process's, as a Node proxy's is),
 * keep-alive connections upstream, websockets passed through, 64 KiB proxy buffers, no access
 * log. It checks no credential: it is the floor of what a C event-loop proxy costs on this
 * machine, not a product to compare feature by feature.
 */
export async function startNginx(
  supervisor: Supervisor,
  dir: string,
  port: number,
  target: { readonly host: string; readonly port: number },
): Promise<Nginx> {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `master_process off;
daemon off;
worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, "body")};
  proxy_temp_path ${join(dir, "proxy")};
  upstream backend { server ${target.host}:${target.port}; keepalive 128; }
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_buffer_size 64k;
      proxy_buffers 32 64k;
      proxy_busy_buffers_size 256k;
      proxy_max_temp_file_size 0;
      proxy_read_timeout 1h;
    }
  }
}
`,
  );
  const proc = supervisor.start("nginx", NGINX_BIN, ["-p", dir, "-c", conf, "-e", "stderr"], {
    capture: true,
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const status = await http(`${url}/`, { timeoutMs: 1000 }).then(
      (r) => r.status,
      () => 0,
    );
    if (status !== 0) break;
    if (!proc.running || i > 300) throw new Error(`nginx did not start; see ${proc.logFile}`);
    await sleep(20);
  }
  return { process: proc, url };
}
