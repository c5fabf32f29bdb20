/** How a server's state reads on the page: `submitting` is still just "starting" to the user. */
const WORDS = new Map([
  ["requested", "requested"],
  ["submitting", "starting"],
  ["queued", "queued"],
  ["starting", "starting"],
  ["running", "running"],
  ["stopping", "stopping"],
  ["stopped", "stopped"],
  ["failed", "failed"],
]);

export function stateWord(state: string): string {
  return WORDS.get(state) ?? state;
}
