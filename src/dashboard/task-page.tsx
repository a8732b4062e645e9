import { useState } from 'preact/hooks';
import { CallError, getLog } from './api.js';
import { usePolling } from './poll.js';
import type { MasterState, TaskJson } from './types.js';
import { ago, Badge, cpus, Empty, mem, Section, time } from './ui.js';

// One task: where it runs, its status history (oldest first, as the master keeps it) and its
// log, read through the master with the operator's credential.

const TAIL_BYTES = 64 * 1024;

function findTask(s: MasterState, frameworkId: string, taskId: string): TaskJson | undefined {
  for (const f of [...s.frameworks, ...s.completed_frameworks]) {
    if (f.id !== frameworkId) continue;
    return [...f.tasks, ...f.completed_tasks].find((t) => t.id === taskId);
  }
  return undefined;
}

function Logs(props: { frameworkId: string; taskId: string; live: boolean }) {
  const [stream, setStream] = useState<'stdout' | 'stderr'>('stdout');
  const [log, setLog] = useState<{ text: string; total: number } | undefined>();
  const [error, setError] = useState<string | undefined>();
  usePolling(
    async () => {
      try {
        setLog(await getLog(props.frameworkId, props.taskId, stream, TAIL_BYTES));
        setError(undefined);
      } catch (e) {
        setError(e instanceof CallError ? `${e.status || 'no answer'}: ${e.message}` : String(e));
      }
    },
    props.live ? 3000 : 30_000,
    `${props.frameworkId}/${props.taskId}/${stream}`,
  );
  return (
    <Section title="Log" id="log">
      <div class="tabs">
        {(['stdout', 'stderr'] as const).map((s) => (
          <button key={s} class={s === stream ? 'tab on' : 'tab'} onClick={() => { setLog(undefined); setStream(s); }}>
            {s}
          </button>
        ))}
        {log && <span class="dim small">{log.total > TAIL_BYTES ? `last ${TAIL_BYTES / 1024} KiB of ${Math.round(log.total / 1024)} KiB` : `${log.total} bytes`}</span>}
      </div>
      {error ? <p class="refusal">The log could not be read ({error}).</p> : log === undefined ? <p class="dim">reading…</p> : log.text === '' ? <Empty>Nothing written to {stream} yet.</Empty> : <pre class="log">{log.text}</pre>}
    </Section>
  );
}

export function TaskPage(props: { s: MasterState; frameworkId: string; taskId: string }) {
  const t = findTask(props.s, props.frameworkId, props.taskId);
  const back = <a class="back" href="#/">← Overview</a>;
  if (!t) {
    return (
      <>
        {back}
        <Section title="Task not found"><Empty>The master knows no task {props.taskId} of framework {props.frameworkId}.</Empty></Section>
      </>
    );
  }
  const agent = props.s.slaves.find((a) => a.id === t.slave_id);
  const framework = [...props.s.frameworks, ...props.s.completed_frameworks].find((f) => f.id === t.framework_id);
  const ended = !['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE'].includes(t.state);
  const history = [...t.statuses].reverse();
  return (
    <>
      {back}
      <div class="task-head card">
        <div>
          <h1 class="task-name">{t.name || t.id}</h1>
          <div class="mono dim small">{t.id}</div>
        </div>
        <Badge state={t.state} />
      </div>
      <div class="grid two">
        <Section title="Details">
          <dl class="facts">
            <dt>Framework</dt><dd>{framework?.name ?? '–'} <span class="mono dim small">{t.framework_id}</span></dd>
            <dt>Role</dt><dd><span class="chip">{t.role}</span></dd>
            <dt>Agent</dt><dd>{agent ? `${agent.hostname} (zone ${String(agent.attributes.zone ?? '–')})` : t.slave_id}</dd>
            <dt>Resources</dt><dd>{cpus(t.resources.cpus)} CPU · {mem(t.resources.mem)}{t.resources.ports ? ` · ports ${t.resources.ports}` : ''}</dd>
          </dl>
        </Section>
        <Section title="Status history" count={t.statuses.length} id="history">
          <ol class="history">
            {history.map((st, i) => (
              <li key={i} class={i === 0 ? 'current' : ''}>
                <Badge state={st.state} />
                <span class="when" title={new Date(st.timestamp * 1000).toISOString()}>{time(st.timestamp)} <span class="dim small">{ago(st.timestamp)}</span></span>
                {(st.reason || st.message) && <div class="why">{st.reason ? <span class="mono small">{st.reason.replace(/^REASON_/, '')}</span> : null} {st.message}</div>}
              </li>
            ))}
          </ol>
        </Section>
      </div>
      <Logs frameworkId={t.framework_id} taskId={t.id} live={!ended} />
    </>
  );
}
