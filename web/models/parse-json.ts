/**
 * The value of a JSON text, still unchecked; undefined when `text` is no string or no JSON, so that
 * a malformed attribute or event reads as "nothing" rather than throwing in an event handler.
 */
export function parseJson(text: unknown): unknown {
  if (typeof text !== "string") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The JSON a server-sent event carries in its data; undefined for any other event. */
export function eventJson(event: Event): unknown {
  if (!(event instanceof MessageEvent)) return undefined;
  const data: unknown = event.data;
  return parseJson(data);
}
