import type { ActivityJson, AgentJson, AutoscalerStatusJson, FrameworkJson, JobJson, MasterState, PeerJson, TaskJson } from './types.js';
import { Badge, cpus, Empty, Legend, mem, pct, ResourceBars, Section, ShareBar, time, tone, ago } from './ui.js';

// The region at a glance: capacity by zone, frameworks and DRF, tasks, offers, and (when this
// master mounts them) jobs, the autoscaler and federation peers.

/** What the extension APIs answered; `null` = this master does not mount it (404). */
export interface Extras {
  readonly jobs?: readonly JobJson[] | null;
  readonly autoscaler?: AutoscalerStatusJson | null;
  readonly activity?: readonly ActivityJson[] | null;
  readonly peers?: readonly PeerJson[] | null;
}

export const taskHref = (t: Pick<TaskJson, 'framework_id' | 'id'>): string => `#/task/${encodeURIComponent(t.framework_id)}/${encodeURIComponent(t.id)}`;

const zoneOf = (a: AgentJson): string => String(a.attributes.zone ?? 'no zone');

function sumOf(agents: readonly AgentJson[], pick: (a: AgentJson) => { cpus: number; mem: number; disk: number }) {
  return agents.reduce((s, a) => ({ cpus: s.cpus + pick(a).cpus, mem: s.mem + pick(a).mem, disk: s.disk + pick(a).disk }), { cpus: 0, mem: 0, disk: 0 });
}

function agentState(a: AgentJson): string {
  if (a.reachability !== 'REACHABLE') return a.reachability;
  if (a.drain_info) return a.drain_info.state;
  if (!a.active) return 'DEACTIVATED';
  return a.healthy ? 'ACTIVE' : 'UNHEALTHY';
}

function Tiles(props: { s: MasterState; tasks: readonly TaskJson[] }) {
  const { s } = props;
  const agents = s.slaves.filter((a) => a.reachability === 'REACHABLE');
  const total = sumOf(agents, (a) => a.resources);
  const used = sumOf(agents, (a) => a.used_resources);
  const offers = s.frameworks.reduce((n, f) => n + f.offers.length, 0);
  const running = props.tasks.filter((t) => t.state === 'TASK_RUNNING').length;
  const tile = (label: string, value: string, sub?: string, cls = '') => (
    <div class={`tile ${cls}`}>
      <div class="tlabel">{label}</div>
      <div class="tvalue">{value}</div>
      {sub && <div class="tsub">{sub}</div>}
    </div>
  );
  return (
    <div class="tiles">
      {tile('Agents', String(agents.length), s.unreachable_slaves ? `${s.unreachable_slaves} unreachable` : 'all reachable', s.unreachable_slaves ? 'bad' : '')}
      {tile('Frameworks', String(s.frameworks.length), `${s.frameworks.filter((f) => f.connected).length} connected`)}
      {tile('Running tasks', String(running), `${props.tasks.length} active in all`)}
      {tile('Offers out', String(offers))}
      {tile('CPU used', total.cpus ? pct(used.cpus / total.cpus) : '–', `${cpus(used.cpus)} of ${cpus(total.cpus)}`)}
      {tile('Memory used', total.mem ? pct(used.mem / total.mem) : '–', `${mem(used.mem)} of ${mem(total.mem)}`)}
    </div>
  );
}

function Zones(props: { agents: readonly AgentJson[] }) {
  const zones = new Map<string, AgentJson[]>();
  for (const a of [...props.agents].sort((x, y) => x.hostname.localeCompare(y.hostname))) {
    const z = zoneOf(a);
    zones.set(z, [...(zones.get(z) ?? []), a]);
  }
  if (zones.size === 0) return <Empty>No agents have registered.</Empty>;
  return (
    <div class="zones">
      {[...zones.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([zone, agents]) => (
          <div class="zone" key={zone}>
            <h3>
              zone <b>{zone}</b> <span class="dim">{agents.length} agent{agents.length === 1 ? '' : 's'}</span>
            </h3>
            {agents.length > 1 && <ResourceBars total={sumOf(agents, (a) => a.resources)} used={sumOf(agents, (a) => a.used_resources)} offered={sumOf(agents, (a) => a.offered_resources)} />}
            <ul class="agents">
              {agents.map((a) => (
                <li key={a.id} class="agent" data-agent={a.id}>
                  <div class="agent-head">
                    <span class="host" title={a.id}>{a.hostname}</span>
                    <Badge state={agentState(a)} />
                  </div>
                  <ResourceBars total={a.resources} used={a.used_resources} offered={a.offered_resources} />
                </li>
              ))}
            </ul>
          </div>
        ))}
    </div>
  );
}

function Frameworks(props: { s: MasterState }) {
  const { s } = props;
  if (s.frameworks.length === 0) return <Empty>No framework is registered.</Empty>;
  return (
    <>
      <div class="table-wrap">
        <table>
          <thead>
            <tr><th>Framework</th><th>Roles</th><th>Tasks</th><th class="hide-phone">CPU</th><th class="hide-phone">Mem</th><th>Dominant share</th></tr>
          </thead>
          <tbody>
            {s.frameworks.map((f) => (
              <tr key={f.id}>
                <td>
                  <span class={`dot ${f.connected ? 'good' : 'warn'}`} title={f.connected ? 'connected' : 'disconnected'} />
                  <b>{f.name}</b>
                  <div class="mono dim small hide-phone">{f.principal ? `${f.principal} · ` : ''}{f.id}</div>
                </td>
                <td>{f.roles.map((r) => <span class="chip" key={r}>{r}</span>)}</td>
                <td class="num">{f.tasks.length}</td>
                <td class="num hide-phone">{cpus(f.used_resources.cpus)}</td>
                <td class="num hide-phone">{mem(f.used_resources.mem)}</td>
                <td>{f.dominant_share !== undefined ? <ShareBar share={f.dominant_share} /> : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {s.roles && s.roles.length > 0 && (
        <div class="table-wrap">
          <table class="roles">
            <thead>
              <tr><th>Role</th><th>Weight</th><th class="hide-phone">Frameworks</th><th>Dominant share</th><th>Weighted (DRF order)</th></tr>
            </thead>
            <tbody>
              {[...s.roles]
                .sort((a, b) => a.weighted_share - b.weighted_share || a.name.localeCompare(b.name))
                .map((r) => (
                  <tr key={r.name}>
                    <td><span class="chip">{r.name}</span></td>
                    <td class="num">{r.weight}</td>
                    <td class="num hide-phone">{r.frameworks.length}</td>
                    <td><ShareBar share={r.dominant_share} /></td>
                    <td class="num">{r.weighted_share.toFixed(3)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function Tasks(props: { s: MasterState; active: readonly TaskJson[]; done: readonly TaskJson[] }) {
  const counts = new Map<string, number>();
  for (const t of [...props.active, ...props.done]) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const host = new Map(props.s.slaves.map((a) => [a.id, a]));
  const shown = [...props.active, ...[...props.done].sort((a, b) => last(b) - last(a)).slice(0, 20)];
  return (
    <>
      <div class="states">
        {[...counts.entries()].sort().map(([state, n]) => (
          <span class={`state-count ${tone(state)}`} key={state}>
            <b>{n}</b> {state.replace(/^TASK_/, '').toLowerCase()}
          </span>
        ))}
      </div>
      {shown.length === 0 ? (
        <Empty>No tasks yet. Try <code>stratus run --name hello -- 'echo hello; sleep 300'</code>.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="tasks">
            <thead>
              <tr><th>Task</th><th>State</th><th>Agent</th><th>CPU</th><th>Mem</th><th>Since</th></tr>
            </thead>
            <tbody>
              {shown.map((t) => {
                const a = host.get(t.slave_id);
                return (
                  <tr key={`${t.framework_id}/${t.id}`} data-task={t.id}>
                    <td><a href={taskHref(t)}>{t.name || t.id}</a><div class="mono dim small hide-phone">{t.id}</div></td>
                    <td><Badge state={t.state} /></td>
                    <td>{a ? <>{a.hostname} <span class="dim small">{zoneOf(a)}</span></> : <span class="mono small">{t.slave_id}</span>}</td>
                    <td class="num">{cpus(t.resources.cpus)}</td>
                    <td class="num">{mem(t.resources.mem)}</td>
                    <td class="dim small">{ago(last(t))}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

const last = (t: TaskJson): number => t.statuses[t.statuses.length - 1]?.timestamp ?? 0;

function Offers(props: { s: MasterState }) {
  const host = new Map(props.s.slaves.map((a) => [a.id, a.hostname]));
  const offers = props.s.frameworks.flatMap((f) => f.offers.map((o) => ({ f, o })));
  if (offers.length === 0) return <Empty>No offer is outstanding.</Empty>;
  return (
    <div class="table-wrap">
      <table>
        <thead><tr><th>Offer</th><th>To</th><th>Agent</th><th>CPU</th><th>Mem</th></tr></thead>
        <tbody>
          {offers.map(({ f, o }) => (
            <tr key={o.id}>
              <td class="mono small">{o.id}</td>
              <td>{f.name}</td>
              <td>{host.get(o.slave_id) ?? o.slave_id}</td>
              <td class="num">{cpus(o.resources.cpus)}</td>
              <td class="num">{mem(o.resources.mem)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Jobs(props: { jobs: readonly JobJson[]; tasks: ReadonlyMap<string, TaskJson> }) {
  if (props.jobs.length === 0) return <Empty>No jobs. <code>stratus run</code> submits one.</Empty>;
  return (
    <div class="jobs">
      {props.jobs.map((j) => {
        const rolling = j.counts.outdated > 0 && j.state !== 'deleting';
        return (
          <div class="job" key={j.name} data-job={j.name}>
            <div class="job-head">
              <b class="job-name">{j.name}</b>
              <span class="chip">{j.type}</span>
              <Badge state={j.state} />
              <span class="dim small">v{j.specVersion}</span>
              <span class="job-counts">{j.counts.running}/{j.counts.desired} running{j.counts.pending ? `, ${j.counts.pending} pending` : ''}</span>
            </div>
            {rolling && (
              <div class="rolling">
                rolling update to v{j.specVersion}: {j.counts.outdated} of {j.counts.desired} instance{j.counts.desired === 1 ? '' : 's'} still outdated
                <span class="track small"><span class="used" style={{ width: `${j.counts.desired ? (100 * (j.counts.desired - j.counts.outdated)) / j.counts.desired : 0}%` }} /></span>
              </div>
            )}
            <div class="instances">
              {(j.instances ?? []).map((i) => {
                const t = i.taskId ? props.tasks.get(i.taskId) : undefined;
                const body = (
                  <>
                    <span class="inst-idx">#{i.index}</span>
                    <span class="inst-state">{i.state}</span>
                    {i.zone && <span class="inst-zone">{i.zone}</span>}
                    {i.outdated && <span class="inst-flag" title="runs an older spec">old</span>}
                  </>
                );
                return t ? (
                  <a class={`instance ${tone(i.state)}`} data-instance={i.index} key={i.index} href={taskHref(t)} title={`${i.hostname ?? ''} ${i.taskId ?? ''}`}>{body}</a>
                ) : (
                  <span class={`instance ${tone(i.state)}`} data-instance={i.index} key={i.index} title={i.pending?.message ?? i.taskId ?? ''}>{body}</span>
                );
              })}
            </div>
            {j.pending.length > 0 && (
              <ul class="pending">
                {j.pending.slice(0, 5).map((p) => (
                  <li key={p.index}><b>#{p.index}</b> waits: {p.message}</li>
                ))}
                {j.pending.length > 5 && <li class="dim">and {j.pending.length - 5} more</li>}
              </ul>
            )}
          </div>
        );
      })}
    </div>
  );
}

function Autoscaler(props: { status: AutoscalerStatusJson; activity: readonly ActivityJson[] }) {
  return (
    <>
      <p class="dim small">provider: {props.status.provider}</p>
      <div class="table-wrap">
        <table>
          <thead><tr><th>Group</th><th>Hosts</th><th>Busy</th><th>Idle</th><th>Draining</th><th>In flight</th><th>Size</th></tr></thead>
          <tbody>
            {props.status.groups.map((g) => (
              <tr key={g.group}>
                <td><b>{g.group}</b></td>
                <td class="num">{g.hosts}</td>
                <td class="num">{g.busy}</td>
                <td class="num">{g.idle}</td>
                <td class="num">{g.draining + g.removing}</td>
                <td class="num">{g.inFlight}</td>
                <td class="num dim">{g.rule ? `${g.rule.minSize}–${g.rule.maxSize}` : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.activity.length > 0 && (
        <ul class="activity">
          {props.activity.slice(0, 8).map((a, i) => (
            <li key={i}>
              <span class="dim small">{time(a.at / 1000)}</span> <Badge state={a.outcome} /> <b>{a.group}</b> {a.action}
              {a.count !== undefined ? ` ${a.count}` : ''}: <span class="dim">{a.error ?? a.reason}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function Peers(props: { peers: readonly PeerJson[] }) {
  if (props.peers.length === 0) return <Empty>No peer region is configured.</Empty>;
  return (
    <div class="peers">
      {props.peers.map((p) => (
        <div class="peer" key={p.name}>
          <b>{p.name}</b> <Badge state={p.state} />
          {p.health && <Badge state={p.health.status} />}
          {p.agents && <span class="small"> {p.agents.reachable}/{p.agents.total} agents reachable</span>}
          {p.ageMs !== undefined && <span class="dim small"> · digest {Math.round(p.ageMs / 1000)} s old</span>}
          {p.health?.reasons && p.health.reasons.length > 0 && <div class="dim small">{p.health.reasons.join('; ')}</div>}
        </div>
      ))}
    </div>
  );
}

export function Overview(props: { s: MasterState; extras: Extras }) {
  const { s, extras } = props;
  const active = s.frameworks.flatMap((f: FrameworkJson) => f.tasks);
  const done = [...s.frameworks, ...s.completed_frameworks].flatMap((f) => f.completed_tasks);
  const byId = new Map([...active, ...done].map((t) => [t.id, t]));
  const offers = s.frameworks.reduce((n, f) => n + f.offers.length, 0);
  return (
    <>
      <Tiles s={s} tasks={active} />
      <div class="grid">
        <Section title="Agents by zone" count={s.slaves.length} id="agents">
          <Legend />
          <Zones agents={s.slaves} />
        </Section>
        {extras.jobs && (
          <Section title="Jobs" count={extras.jobs.length} id="jobs">
            <Jobs jobs={extras.jobs} tasks={byId} />
          </Section>
        )}
        <Section title="Frameworks and DRF" count={s.frameworks.length} id="frameworks">
          <Frameworks s={s} />
        </Section>
        <Section title="Tasks" count={active.length} id="tasks">
          <Tasks s={s} active={active} done={done} />
        </Section>
        <Section title="Outstanding offers" count={offers} id="offers">
          <Offers s={s} />
        </Section>
        {extras.autoscaler && (
          <Section title="Autoscaler" count={extras.autoscaler.groups.length} id="autoscaler">
            <Autoscaler status={extras.autoscaler} activity={extras.activity ?? []} />
          </Section>
        )}
        {extras.peers && (
          <Section title="Federation peers" count={extras.peers.length} id="peers">
            <Peers peers={extras.peers} />
          </Section>
        )}
      </div>
    </>
  );
}
