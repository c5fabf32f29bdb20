import { writeFileSync } from "node:fs";
import { z } from "zod";
import { configSchema } from "../src/config/schema.js";

/** Publishes the configuration schema as JSON Schema, for editors and for `docs/`. */
const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
writeFileSync(new URL("../docs/config.schema.json", import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);
