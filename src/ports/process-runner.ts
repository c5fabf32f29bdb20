/** Runs a program with an argv array (never through a shell). */
export interface RunOptions {
  readonly stdin?: string;
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface ProcessRunner {
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
}
