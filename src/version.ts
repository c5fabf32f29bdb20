/** This build's version, on its own so that `slipway --version` loads nothing else. */
export const VERSION = "0.1.0";
