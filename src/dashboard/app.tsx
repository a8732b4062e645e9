import { useEffect, useRef, useState } from 'preact/hooks';
import { CallError, getIfChanged, getJson, storeAuthorization, storedAuthorization } from './api.js';
import { Login } from './login.js';
import { Overview, type Extras } from './overview.js';
import { usePolling } from './poll.js';
import { TaskPage } from './task-page.js';
import type { ActivityJson, AutoscalerStatusJson, JobJson, MasterState, PeerJson } from './types.js';
import { time } from './ui.js';

// The page: polls GET /master/state every 2 s with If-None-Match (a 304 while nothing changed),
// and the extension APIs when the state changed or every few seconds; asks for the operator
// credential when the master answers 401; routes #/ (overview) and #/task/<framework>/<task>.

const POLL_MS = 2000;
const EXTRAS_MS = 6000;

type Phase = { kind: 'loading' } | { kind: 'login'; refusal?: string } | { kind: 'ready' };

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = (): void => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** An optional API: its value, or null when this master does not mount it (404). */
async function optional<T, R>(path: string, pick: (v: T) => R): Promise<R | null> {
  const v = await getJson<T>(path);
  return v === undefined ? null : pick(v);
}

async function loadExtras(): Promise<Extras> {
  const [jobs, autoscaler, activity, peers] = await Promise.all([
    optional<{ jobs: JobJson[] }, JobJson[]>('/api/v1/jobs', (v) => v.jobs),
    optional<AutoscalerStatusJson, AutoscalerStatusJson>('/api/v1/autoscaler/status', (v) => v),
    optional<{ activity: ActivityJson[] }, ActivityJson[]>('/api/v1/autoscaler/activity?limit=8', (v) => v.activity),
    optional<{ peers: PeerJson[] }, PeerJson[]>('/api/v1/federation/peers', (v) => v.peers),
  ]);
  // The list has counts; each job's detail has its instances (zones, pending reasons).
  const detailed = jobs && (await Promise.all(jobs.map(async (j) => (await getJson<{ job: JobJson }>(`/api/v1/jobs/${encodeURIComponent(j.name)}`))?.job ?? j)));
  return { jobs: detailed, autoscaler, activity, peers };
}

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const [state, setState] = useState<MasterState | undefined>();
  const [extras, setExtras] = useState<Extras>({});
  const [checkedAt, setCheckedAt] = useState<number | undefined>();
  const [trouble, setTrouble] = useState<string | undefined>();
  const [attempt, setAttempt] = useState(0);
  const etag = useRef<string | undefined>(undefined);
  const extrasAt = useRef(0);
  const hash = useHash();

  usePolling(
    async () => {
      if (phase.kind === 'login') return;
      try {
        const r = await getIfChanged<MasterState>('/master/state', etag.current);
        if (!r.unchanged) {
          etag.current = r.etag;
          setState(r.value);
        }
        if (!r.unchanged || Date.now() - extrasAt.current > EXTRAS_MS) {
          extrasAt.current = Date.now();
          setExtras(await loadExtras());
        }
        setPhase({ kind: 'ready' });
        setTrouble(undefined);
        setCheckedAt(Date.now());
      } catch (e) {
        if (e instanceof CallError && (e.status === 401 || e.status === 403)) {
          const had = storedAuthorization() !== undefined;
          storeAuthorization(undefined);
          etag.current = undefined;
          setState(undefined);
          setExtras({});
          setPhase({ kind: 'login', ...(had ? { refusal: `The master refused this credential (${e.status}: ${e.message}).` } : {}) });
          return;
        }
        setTrouble(e instanceof Error ? e.message : String(e));
      }
    },
    POLL_MS,
    attempt,
  );

  const signIn = (authorization: string): void => {
    storeAuthorization(authorization);
    setPhase({ kind: 'loading' });
    setAttempt((n) => n + 1);
  };
  const signOut = (): void => {
    storeAuthorization(undefined);
    setState(undefined);
    etag.current = undefined;
    setPhase({ kind: 'login' });
  };

  const route = /^#\/task\/([^/]+)\/([^/]+)$/.exec(hash);
  return (
    <div class="page">
      <header class="top">
        <a class="brand" href="#/">
          <span class="logo" aria-hidden="true" />
          Stratus
        </a>
        {state && (
          <span class="region">
            <span class="mono">{state.id}</span>
            <span class="dim"> · {state.hostname} · v{state.version}</span>
          </span>
        )}
        <span class="spacer" />
        {phase.kind === 'ready' && (
          <span class={`live ${trouble ? 'bad' : 'good'}`} title={trouble ?? 'polling every 2 s while this tab is visible'}>
            <span class="pulse" />
            {trouble ? 'master not answering' : `live · ${checkedAt ? time(checkedAt / 1000) : ''}`}
          </span>
        )}
        {storedAuthorization() && phase.kind !== 'login' && (
          <button class="link" onClick={signOut}>
            sign out
          </button>
        )}
      </header>
      <main>
        {phase.kind === 'login' ? (
          <Login onSubmit={signIn} {...(phase.refusal ? { refusal: phase.refusal } : {})} />
        ) : !state ? (
          <p class="dim loading">{trouble ? `The master did not answer: ${trouble}` : 'Loading the region…'}</p>
        ) : route ? (
          <TaskPage s={state} frameworkId={decodeURIComponent(route[1]!)} taskId={decodeURIComponent(route[2]!)} />
        ) : (
          <Overview s={state} extras={extras} />
        )}
      </main>
    </div>
  );
}
