/** Makes every `<button data-copy="selector">` copy the text of the element it names (e.g. a TOTP secret). */
export function initCopyButtons(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-copy]")) {
    button.addEventListener("click", () => {
      const source = document.querySelector(button.dataset["copy"] ?? "");
      if (source?.textContent) void navigator.clipboard?.writeText(source.textContent);
    });
  }
}
