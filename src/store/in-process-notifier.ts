import type { Notification, Notifier } from "../ports/notifier.js";

type Listener = (note: Notification) => void;

/**
 * Change notifications within one process: the notifier of a single hub on SQLite. Delivery is
 * synchronous, in subscription order, to the listeners subscribed when `publish` was called.
 */
export class InProcessNotifier implements Notifier {
  // One entry per subscription (not per function), so subscribing the same function twice
  // gives two deliveries and two independent disposers.
  readonly #subscriptions = new Set<{ readonly listener: Listener }>();
  readonly #onListenerError: (error: unknown, note: Notification) => void;

  constructor(options: { onListenerError?: (error: unknown, note: Notification) => void } = {}) {
    this.#onListenerError =
      options.onListenerError ??
      ((error, note) => {
        const detail = error instanceof Error ? error.message : String(error);
        process.emitWarning(`A listener of ${note.topic} notifications failed: ${detail}`);
      });
  }

  publish(note: Notification): Promise<void> {
    for (const subscription of [...this.#subscriptions]) {
      try {
        subscription.listener(note);
      } catch (error) {
        // One broken listener must not keep the news from the others, nor fail the publisher.
        try {
          this.#onListenerError(error, note);
        } catch {
          // The error reporter itself failed; there is nowhere left to report it.
        }
      }
    }
    return Promise.resolve();
  }

  subscribe(listener: Listener): () => void {
    const subscription = { listener };
    this.#subscriptions.add(subscription);
    return () => {
      this.#subscriptions.delete(subscription);
    };
  }
}
