import type { z } from "zod";
import { HelperCallError, HelperClient, type HelperClientOptions } from "./helper-client.js";
import { responseSchema, type Verb } from "../helper/protocol.js";
import { z as zod } from "zod";

const envelopeSchema = responseSchema(zod.unknown());

/** Runs the helper's Slurm verbs as the user; the same argv rules and checks as HelperClient. */
export class SlurmHelperClient {
  private readonly base: HelperClient;

  constructor(private readonly options: HelperClientOptions) {
    this.base = new HelperClient(options);
  }

  async call<S extends z.ZodType>(
    userName: string,
    verb: Verb,
    request: object,
    resultSchema: S,
    timeoutMs: number,
  ): Promise<z.output<S>> {
    const argv = this.base.argv(userName, verb);
    const run = await this.options.runner.run(argv, {
      stdin: JSON.stringify(request),
      timeoutMs,
      env: this.options.env,
    });
    if (run.timedOut) throw new HelperCallError(`The helper did not answer ${verb} within ${timeoutMs} ms.`);
    let data: unknown;
    try {
      data = JSON.parse(run.stdout);
    } catch {
      throw new HelperCallError(
        `The helper exited with code ${run.code} without an answer: ${run.stderr.trim().slice(-300)}`,
      );
    }
    const envelope = envelopeSchema.safeParse(data);
    if (!envelope.success) throw new HelperCallError(`The helper's answer to ${verb} is not valid.`);
    if (!envelope.data.ok) throw new HelperCallError(envelope.data.error.message, envelope.data.error);
    const result = resultSchema.safeParse(envelope.data.result);
    if (!result.success) throw new HelperCallError(`The helper's answer to ${verb} is not valid.`);
    return result.data;
  }
}
