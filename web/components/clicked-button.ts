/** The button matching `selector` that a click landed on or inside; null when it hit none. */
export function clickedButton(event: Event, selector: string): HTMLButtonElement | null {
  const target = event.target;
  const button = target instanceof Element ? target.closest(selector) : null;
  return button instanceof HTMLButtonElement ? button : null;
}
