/** Hands the data of the form `id` to `handle` instead of letting the browser submit it. */
export function onFormSubmit(id: string, handle: (data: FormData) => void): void {
  const form = document.getElementById(id);
  if (!(form instanceof HTMLFormElement)) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    handle(new FormData(form));
  });
}
