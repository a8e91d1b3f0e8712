/** One dispatched Server-Sent Event: its type, data, and the last event id at that point. */
export interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/**
 * A Server-Sent Events reader over Node's fetch, parsing as the EventSource standard does: `id`
 * lines set the last event id even without data (`lastEventId`), comments are ignored.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  lastEventId = '';
  /** Settles when the server ends the stream (or the client closes it). */
  readonly ended: Promise<void>;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    this.ended = this.pump().finally(() => this.notify());
  }

  /** GETs `url`; the stream is read only when the status is 200. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const response = await fetch(url, { headers, signal: abort.signal });
    return new SseClient(response, abort);
  }

  private async pump(): Promise<void> {
    if (this.response.status !== 200 || !this.response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    let pending: Partial<SseEvent> & { data?: string } = {};
    try {
      for await (const chunk of this.response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf('\n');
          if (line === '') {
            if (pending.data !== undefined)
              this.events.push({
                id: this.lastEventId,
                event: pending.event ?? 'message',
                data: pending.data,
              });
            pending = {};
            this.notify();
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') this.lastEventId = value;
          else if (field === 'event') pending.event = value;
          else if (field === 'data')
            pending.data = pending.data === undefined ? value : `${pending.data}\n${value}`;
        }
      }
    } catch (error) {
      if (!this.abort.signal.aborted) throw error;
    }
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** The parsed `data` of each event, in order. */
  data<T = Record<string, unknown>>(): T[] {
    return this.events.map((event) => JSON.parse(event.data) as T);
  }

  /** Resolves once `ready()` holds; rejects after `timeoutMs` or when the stream ends first. */
  async until(ready: () => boolean, timeoutMs = 4000, what = 'the expected events'): Promise<void> {
    let ended = false;
    void this.ended.then(() => {
      ended = true;
    });
    const started = Date.now();
    while (!ready()) {
      if (ended) throw new Error(`the stream ended before ${what} arrived (got ${this.events.length})`);
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) throw new Error(`timed out waiting for ${what} (got ${this.events.length})`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 50));
        this.waiters.add(done);
      });
    }
  }

  close(): void {
    this.abort.abort();
  }
}
