import type { Scenario } from "./context.js";

export const spawnLatency: Scenario = {
  group: "spawn",
  title: "todo",
  async run() {
    throw new Error("todo");
  },
};
