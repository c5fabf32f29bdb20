/** Lets go of one thing the hub holds: a timer, a pool, a subscription, a listener. */
export type Disposer = () => void | Promise<void>;

/**
 * The disposers of everything the hub has made, registered where each thing is made. `close`
 * runs them in reverse order, so a part is closed before the parts it was built on (the web
 * app before the services it calls, the services before the store). Every disposer runs even
 * when one before it fails; `close` then rejects with the failure (an `AggregateError` for
 * several). A second `close` waits for the first.
 */
export class Disposables {
  readonly #stack: Disposer[] = [];
  #closing: Promise<void> | undefined;

  add(dispose: Disposer): void {
    this.#stack.push(dispose);
  }

  /** Registers how to dispose of `resource` and hands it back, so both happen in one place. */
  use<T>(resource: T, dispose: (resource: T) => void | Promise<void>): T {
    this.#stack.push(() => dispose(resource));
    return resource;
  }

  close(): Promise<void> {
    this.#closing ??= this.#unwind();
    return this.#closing;
  }

  async #unwind(): Promise<void> {
    const failures: unknown[] = [];
    for (let dispose = this.#stack.pop(); dispose !== undefined; dispose = this.#stack.pop()) {
      try {
        await dispose();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, "several parts of the hub failed to close");
  }
}
