// Raw HTTP helpers for tests that act as a Mesos v1 framework: no SDK, just fetch, the
// scheduler JSON calls and a RecordIO reader, as any Mesos HTTP client would do.

export type Json = Record<string, unknown>;

export interface SchedulerEventJson {
  type: string;
  subscribed?: { framework_id: { value: string }; heartbeat_interval_seconds: number };
  offers?: { offers: OfferJson[] };
  rescind?: { offer_id: { value: string } };
  update?: { status: StatusJson };
  error?: { message: string };
}

export interface OfferJson {
  id: { value: string };
  agent_id: { value: string };
  hostname: string;
  resources: { name: string; scalar?: { value: number }; ranges?: { range: { begin: number; end: number }[] } }[];
  allocation_info?: { role: string };
  attributes?: { name: string; text: { value: string } }[];
}

export interface StatusJson {
  task_id: { value: string };
  agent_id: { value: string };
  state: string;
  uuid?: string;
  reason?: string;
  message?: string;
}

/**
 * Parses a RecordIO byte stream into JSON records. Deliberately not the SDK's decoder: the
 * HTTP-only end-to-end tests check the master's framing against an independent reader.
 */
export async function* readRecordIO(body: ReadableStream<Uint8Array>): AsyncGenerator<SchedulerEventJson> {
  let buf = Buffer.alloc(0);
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf = Buffer.concat([buf, Buffer.from(value)]);
      for (;;) {
        const nl = buf.indexOf(10);
        if (nl < 0) break;
        const len = Number(buf.subarray(0, nl).toString());
        if (buf.length < nl + 1 + len) break;
        yield JSON.parse(buf.subarray(nl + 1, nl + 1 + len).toString()) as SchedulerEventJson;
        buf = buf.subarray(nl + 1 + len);
      }
    }
  } finally {
    reader.releaseLock();
  }
}

export function frameworkInfo(name: string, extra: Json = {}): Json {
  return { user: 'test', name, roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }], ...extra };
}

/** A framework subscribed with a RecordIO stream; events are queued for `next`. */
export class StreamingFramework {
  frameworkId = '';
  streamId = '';
  readonly events: SchedulerEventJson[] = [];
  private waiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  closed = false;

  constructor(
    readonly master: string,
    readonly headers: Record<string, string> = {},
  ) {}

  async subscribe(info: Json, frameworkId?: string): Promise<this> {
    const res = await fetch(`${this.master}/api/v1/scheduler`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...this.headers },
      body: JSON.stringify({ type: 'SUBSCRIBE', ...(frameworkId ? { framework_id: { value: frameworkId } } : {}), subscribe: { framework_info: { ...info, ...(frameworkId ? { id: { value: frameworkId } } : {}) } } }),
      signal: this.abort.signal,
    });
    if (res.status !== 200) throw new Error(`SUBSCRIBE failed: ${res.status} ${await res.text()}`);
    // Asked with Accept: application/json, a Mesos 1.x master streams RecordIO-framed JSON
    // records under Content-Type application/json (a poll answer fails the first read below).
    if (res.headers.get('content-type') !== 'application/json') throw new Error(`expected a stream of JSON records, got ${res.headers.get('content-type')}`);
    this.streamId = res.headers.get('mesos-stream-id') ?? '';
    const events = readRecordIO(res.body!);
    const first = await events.next();
    if (first.done || first.value.type !== 'SUBSCRIBED') throw new Error('the stream did not start with SUBSCRIBED');
    this.frameworkId = first.value.subscribed!.framework_id.value;
    this.events.push(first.value);
    void (async () => {
      try {
        for await (const e of events) {
          this.events.push(e);
          this.waiters.splice(0).forEach((w) => w());
        }
      } catch {
        // closed
      } finally {
        this.closed = true;
        this.waiters.splice(0).forEach((w) => w());
      }
    })();
    return this;
  }

  close(): void {
    this.abort.abort();
  }

  async call(body: Json): Promise<{ status: number; json: Json | undefined }> {
    return schedulerPost(this.master, { framework_id: { value: this.frameworkId }, ...body }, { 'Mesos-Stream-Id': this.streamId, ...this.headers });
  }

  /** Waits for the first event after index `from` that matches, returning it and its index. */
  async waitFor(pred: (e: SchedulerEventJson) => boolean, timeoutMs = 15_000, from = 0): Promise<{ event: SchedulerEventJson; index: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.events.findIndex((e, i) => i >= from && pred(e));
      if (index >= 0) return { event: this.events[index]!, index };
      if (this.closed) throw new Error('stream closed while waiting');
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.events.map((e) => (e.type === 'UPDATE' ? `UPDATE(${e.update!.status.task_id.value}:${e.update!.status.state})` : e.type));
        throw new Error(`timed out waiting for an event; saw ${seen.join(',')}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async nextOffer(from = 0, timeoutMs?: number): Promise<OfferJson> {
    const { event } = await this.waitFor((e) => e.type === 'OFFERS' && (e.offers?.offers.length ?? 0) > 0, timeoutMs, from);
    return event.offers!.offers[0]!;
  }

  /** Waits for an UPDATE of the task in the given state and acknowledges it if it has a uuid. */
  async waitForState(taskId: string, state: string, timeoutMs?: number): Promise<StatusJson> {
    const { event } = await this.waitFor((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === taskId && e.update!.status.state === state, timeoutMs);
    const s = event.update!.status;
    if (s.uuid) await this.acknowledge(s);
    return s;
  }

  async acknowledge(s: StatusJson): Promise<void> {
    const r = await this.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: s.agent_id, task_id: s.task_id, uuid: s.uuid } });
    if (r.status !== 202) throw new Error(`ACKNOWLEDGE failed: ${r.status} ${JSON.stringify(r.json)}`);
  }
}

export async function schedulerPost(master: string, body: Json, headers: Record<string, string> = {}): Promise<{ status: number; json: Json | undefined; headers: Headers }> {
  const res = await fetch(`${master}/api/v1/scheduler`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Json) : undefined, headers: res.headers };
}

export function launchCall(offer: OfferJson, tasks: { id: string; cpus: number; mem: number; command: string }[], refuseSeconds?: number): Json {
  return {
    type: 'ACCEPT',
    accept: {
      offer_ids: [offer.id],
      operations: [
        {
          type: 'LAUNCH',
          launch: {
            task_infos: tasks.map((t) => ({
              name: t.id,
              task_id: { value: t.id },
              agent_id: offer.agent_id,
              resources: [
                { name: 'cpus', type: 'SCALAR', scalar: { value: t.cpus } },
                { name: 'mem', type: 'SCALAR', scalar: { value: t.mem } },
              ],
              command: { shell: true, value: t.command },
            })),
          },
        },
      ],
      ...(refuseSeconds !== undefined ? { filters: { refuse_seconds: refuseSeconds } } : {}),
    },
  };
}

export function scalar(offer: OfferJson, name: string): number {
  return offer.resources.filter((r) => r.name === name).reduce((s, r) => s + (r.scalar?.value ?? 0), 0);
}
