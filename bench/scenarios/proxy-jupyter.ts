import type { Scenario } from "./context.js";

export const proxyJupyter: Scenario = {
  group: "proxy-jupyter",
  title: "todo",
  async run() {
    throw new Error("todo");
  },
};
