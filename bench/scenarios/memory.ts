import type { Scenario } from "./context.js";

export const memory: Scenario = {
  group: "memory",
  title: "todo",
  async run() {
    throw new Error("todo");
  },
};
