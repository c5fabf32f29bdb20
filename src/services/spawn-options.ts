import { z } from "zod";
import { SlipwayError } from "../domain/errors.js";
import type { JsonObject, User } from "../domain/types.js";

export interface TargetDescription {
  readonly name: string;
  readonly type: "local";
  readonly displayName: string;
  readonly description: string;
}

/** The per-user form model: only what this user may choose. */
export interface SpawnFormModel {
  readonly targets: readonly TargetDescription[];
  readonly defaultTarget: string;
}

export interface ValidatedLaunch {
  readonly target: string;
  /** The normalised `user_options` that are stored and shown back. */
  readonly userOptions: JsonObject;
}

/**
 * Turns the configured targets into a per-user model and validates what comes back against the
 * same model. Unknown keys are refused, so a form or API value can never reach a launcher unchecked.
 */
export class SpawnOptions {
  readonly #targets: readonly TargetDescription[];
  readonly #defaultTarget: string;

  constructor(targets: readonly TargetDescription[], defaultTarget: string) {
    this.#targets = targets;
    this.#defaultTarget = defaultTarget;
  }

  model(_user: User): SpawnFormModel {
    return { targets: this.#targets, defaultTarget: this.#defaultTarget };
  }

  validate(user: User, raw: unknown): ValidatedLaunch {
    const model = this.model(user);
    const names = model.targets.map((t) => t.name);
    const schema = z.strictObject({
      target: z
        .string()
        .max(64)
        .refine((v) => names.includes(v), { message: `must be one of: ${names.join(", ")}` })
        .optional(),
    });
    const parsed = schema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const unknown = issue?.code === "unrecognized_keys";
      throw new SlipwayError(
        unknown ? "unknown_field" : "invalid_option",
        unknown
          ? `Unknown launch option: ${issue.keys.map((k) => k.slice(0, 32)).join(", ")}`
          : `Launch option ${issue?.path.join(".") || "(body)"}: ${issue?.message ?? "not valid"}`,
      );
    }
    const target = parsed.data.target ?? model.defaultTarget;
    return { target, userOptions: { target } };
  }
}
