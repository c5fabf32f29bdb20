import { hubApi, type HubApi } from "../api/hub-api.js";

/** What every page's script is given: who is signed in, and the hub's API with their session. */
export interface PageContext {
  /** The signed-in user's name; empty on pages shown before sign-in. */
  readonly user: string;
  readonly api: HubApi;
}

function meta(doc: Document, name: string): string {
  return doc.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? "";
}

/** Reads the context from the `<meta>` elements of the layout (src/http/pages/layout.ts). */
export function readPageContext(doc: Document): PageContext {
  return { user: meta(doc, "slipway-user"), api: hubApi(meta(doc, "slipway-xsrf")) };
}
