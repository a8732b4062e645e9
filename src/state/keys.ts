import type { ItemKey } from './item-store.js';

// The single-table key layout. Every hot path is a key read or a query on one partition:
//   AGENT#a / AGENT              gsi1 AGENTS / a                     an agent
//   AGENT#a / WORK                                                   its work marker (version = changes)
//   AGENT#a / MSG#m              gsi2 AGENT#a / MSG#m                a framework message for it (TTL)
//   AGENT#a / CONN                                                   the WebSocket connection it is bound to (TTL)
//   CONN#c / CONN                                                    an agent WebSocket connection (TTL)
//   FRAMEWORK#f / FRAMEWORK      gsi1 FRAMEWORKS / f                 a framework
//   FRAMEWORK#f / LOG                                                its event log head (last seq)
//   FRAMEWORK#f / EVENT#<seq>                                        its events, in order
//   FRAMEWORK#f / TASK#t         gsi1 TASKS / f#t, gsi2 AGENT#a / TASK#f#t   a task
//   FRAMEWORK#f / FILTER#a       gsi1 FILTERS / f#a                  a DECLINE filter (TTL)
//   OFFER#o / OFFER              gsi1 OFFERS / f#o, gsi2 AGENT#a / OFFER#o   an offer
//   ROLE#r / ROLE                gsi1 ROLES / r                      a role's weight and quota
//   LIVENESS#kind#id / LIVENESS  gsi1 LIVENESS#kind / id             a heartbeat counter
//   LEASE#name / LEASE                                               the leader lease
//   DOC#c#id / DOC               gsi1 DOC#c / id                     documents of other modules

export const SEQ_WIDTH = 15;
export const pad = (n: number): string => String(n).padStart(SEQ_WIDTH, '0');

export const keys = {
  agent: (id: string): ItemKey => ({ pk: `AGENT#${id}`, sk: 'AGENT' }),
  agentWork: (id: string): ItemKey => ({ pk: `AGENT#${id}`, sk: 'WORK' }),
  agentMessage: (aid: string, id: string): ItemKey => ({ pk: `AGENT#${aid}`, sk: `MSG#${id}` }),
  agentConnectionOf: (aid: string): ItemKey => ({ pk: `AGENT#${aid}`, sk: 'CONN' }),
  agentConnection: (cid: string): ItemKey => ({ pk: `CONN#${cid}`, sk: 'CONN' }),
  framework: (id: string): ItemKey => ({ pk: `FRAMEWORK#${id}`, sk: 'FRAMEWORK' }),
  eventLog: (fid: string): ItemKey => ({ pk: `FRAMEWORK#${fid}`, sk: 'LOG' }),
  event: (fid: string, seq: number): ItemKey => ({ pk: `FRAMEWORK#${fid}`, sk: `EVENT#${pad(seq)}` }),
  task: (fid: string, tid: string): ItemKey => ({ pk: `FRAMEWORK#${fid}`, sk: `TASK#${tid}` }),
  filter: (fid: string, aid: string): ItemKey => ({ pk: `FRAMEWORK#${fid}`, sk: `FILTER#${aid}` }),
  offer: (id: string): ItemKey => ({ pk: `OFFER#${id}`, sk: 'OFFER' }),
  role: (name: string): ItemKey => ({ pk: `ROLE#${name}`, sk: 'ROLE' }),
  liveness: (kind: string, id: string): ItemKey => ({ pk: `LIVENESS#${kind}#${id}`, sk: 'LIVENESS' }),
  lease: (name: string): ItemKey => ({ pk: `LEASE#${name}`, sk: 'LEASE' }),
  document: (collection: string, id: string): ItemKey => ({ pk: `DOC#${collection}#${id}`, sk: 'DOC' }),
};

export const collections = {
  agents: 'AGENTS',
  frameworks: 'FRAMEWORKS',
  tasks: 'TASKS',
  filters: 'FILTERS',
  offers: 'OFFERS',
  roles: 'ROLES',
  liveness: (kind: string): string => `LIVENESS#${kind}`,
  documents: (collection: string): string => `DOC#${collection}`,
  byAgent: (aid: string): string => `AGENT#${aid}`,
};
