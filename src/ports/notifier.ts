/**
 * Change notifications between the parts of one hub and, over PostgreSQL LISTEN/NOTIFY,
 * between replicas. Payloads are small JSON objects naming what changed, never secrets.
 */
export type Topic = "server" | "user" | "session";

export interface Notification {
  readonly topic: Topic;
  readonly id: number | string;
}

export interface Notifier {
  publish(note: Notification): Promise<void>;
  /** Returns a disposer. */
  subscribe(listener: (note: Notification) => void): () => void;
}
