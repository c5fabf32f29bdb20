import { toString as qrToString } from "qrcode";

/**
 * A URI as an SVG QR code. On its own so that the QR library is loaded (with `import()`) only
 * when an enrolment page is rendered; a static import here also keeps its named exports intact
 * in the bundle, where a dynamic import of a CommonJS package would only yield `default`.
 */
export function qrSvg(uri: string): Promise<string> {
  return qrToString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
}
