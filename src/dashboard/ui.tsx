import type { ComponentChildren } from 'preact';
import type { Scalars } from './types.js';

// Small pieces shared by the pages: sections, state badges, resource bars, number formats.

export function Section(props: { title: string; count?: number | string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" id={props.id}>
      <h2>
        {props.title}
        {props.count !== undefined && <span class="count">{props.count}</span>}
      </h2>
      {props.children}
    </section>
  );
}

/** The colour family of a state word (task, agent, job, instance, peer). */
export function tone(state: string): string {
  const s = state.replace(/^TASK_/, '').toUpperCase();
  if (['RUNNING', 'REACHABLE', 'ACTIVE', 'ALIVE', 'HEALTHY', 'FINISHED', 'SUCCEEDED', 'OK', 'SUCCESS', 'UP'].includes(s)) return 'good';
  if (['STAGING', 'STARTING', 'DEPLOYING', 'PENDING', 'KILLING', 'DRAINING', 'SUSPECT', 'UNKNOWN', 'IN_FLIGHT', 'STARTED', 'UPDATING', 'LAUNCHED'].includes(s)) return 'warn';
  if (['FAILED', 'ERROR', 'LOST', 'GONE', 'DEAD', 'UNREACHABLE', 'DROPPED', 'GONE_BY_OPERATOR', 'UNHEALTHY', 'FAILURE', 'DOWN'].includes(s)) return 'bad';
  if (['KILLED', 'DELETING', 'DRAINED', 'DEACTIVATED', 'INACTIVE', 'IDLE'].includes(s)) return 'muted';
  return 'info';
}

export function Badge(props: { state: string; label?: string }) {
  return <span class={`badge ${tone(props.state)}`}>{props.label ?? props.state.replace(/^TASK_/, '')}</span>;
}

export const cpus = (v: number): string => (Math.round(v * 100) / 100).toString();
export function mem(mb: number): string {
  return mb >= 1024 ? `${(Math.round((mb / 1024) * 10) / 10).toString()} GiB` : `${Math.round(mb)} MiB`;
}
export const pct = (x: number): string => `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;

export function ago(seconds: number, now = Date.now() / 1000): string {
  const d = Math.max(0, now - seconds);
  if (d < 60) return `${Math.round(d)} s ago`;
  if (d < 3600) return `${Math.round(d / 60)} min ago`;
  if (d < 86400) return `${Math.round(d / 3600)} h ago`;
  return `${Math.round(d / 86400)} d ago`;
}

export function time(seconds: number): string {
  return new Date(seconds * 1000).toLocaleTimeString(undefined, { hour12: false });
}

/** Used, offered and free of one resource as one stacked bar, with the figures. */
export function ResourceBar(props: { label: string; used: number; offered: number; total: number; format: (v: number) => string }) {
  const { used, offered, total } = props;
  const w = (v: number): string => `${total > 0 ? Math.min(100, (v / total) * 100) : 0}%`;
  const free = Math.max(0, total - used - offered);
  return (
    <div class="rbar" title={`${props.label}: used ${props.format(used)}, offered ${props.format(offered)}, free ${props.format(free)} of ${props.format(total)}`}>
      <span class="rlabel">{props.label}</span>
      <span class="track">
        <span class="used" style={{ width: w(used) }} />
        <span class="offered" style={{ width: w(offered) }} />
      </span>
      <span class="rfig">
        {props.format(used)}
        <span class="dim"> / {props.format(total)}</span>
      </span>
    </div>
  );
}

export function ResourceBars(props: { total: Scalars; used: Scalars; offered: Scalars }) {
  return (
    <div class="rbars">
      <ResourceBar label="CPU" used={props.used.cpus} offered={props.offered.cpus} total={props.total.cpus} format={cpus} />
      <ResourceBar label="Mem" used={props.used.mem} offered={props.offered.mem} total={props.total.mem} format={mem} />
    </div>
  );
}

export function ShareBar(props: { share: number }) {
  return (
    <span class="share" title={`dominant share ${pct(props.share)}`}>
      <span class="track small">
        <span class="used" style={{ width: `${Math.min(100, props.share * 100)}%` }} />
      </span>
      <span class="rfig">{pct(props.share)}</span>
    </span>
  );
}

export function Legend() {
  return (
    <div class="legend">
      <span><i class="sw used" /> used</span>
      <span><i class="sw offered" /> offered</span>
      <span><i class="sw free" /> free</span>
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}
