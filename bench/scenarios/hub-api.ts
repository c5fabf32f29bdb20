import type { Scenario } from "./context.js";

export const hubApi: Scenario = {
  group: "hub-api",
  title: "todo",
  async run() {
    throw new Error("todo");
  },
};
