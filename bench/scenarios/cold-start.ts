import type { Scenario } from "./context.js";

export const coldStart: Scenario = {
  group: "cold-start",
  title: "todo",
  async run() {
    throw new Error("todo");
  },
};
