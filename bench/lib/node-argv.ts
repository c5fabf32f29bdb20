import { fileURLToPath } from "node:url";

/** `node --import tsx <file>` with tsx resolved from here, so it works from any working directory. */
export function tsNodeArgv(file: string | URL): string[] {
  const path = typeof file === "string" ? file : fileURLToPath(file);
  return [process.execPath, "--import", import.meta.resolve("tsx"), path];
}
