import type { Registry } from '../../state/registry.js';

// The region's public API URL, which peers need (federated jobs reach each other's jobs APIs).
// The tick cannot be given it by the stack (the API depends on the handler, the handler on the
// tick), so the API handler records what API Gateway tells it, once per container, in the
// region's table, and the tick reads it there.

const COLLECTION = 'region-info';
const ID = 'api-url';
let recorded: string | undefined;

export async function regionApiUrl(registry: Registry): Promise<string | undefined> {
  const doc = await registry.getDocument<{ url: string }>(COLLECTION, ID);
  return doc?.data.url;
}

export async function recordRegionApiUrl(registry: Registry, requestContext: { readonly [key: string]: unknown }): Promise<void> {
  const domain = requestContext.domainName;
  const stage = requestContext.stage;
  if (typeof domain !== 'string' || !domain || domain === 'localhost') return;
  const url = `https://${domain}${typeof stage === 'string' && stage && stage !== '$default' ? `/${stage}` : ''}`;
  if (recorded === url) return;
  try {
    const doc = await registry.getDocument<{ url: string }>(COLLECTION, ID);
    if (doc?.data.url !== url) await registry.transaction().putDocument(COLLECTION, ID, { url }, doc ? { version: doc.version } : 'absent').commit();
    recorded = url;
  } catch {
    // Another container recorded it at the same moment; the next request checks again.
  }
}
