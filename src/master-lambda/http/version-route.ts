import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { versionBody, type BuildInfo } from '../../wire/mesos-version.js';
import type { HttpResponse } from '../../http/types.js';

// GET /version (and /master/version), as Mesos serves it: open, without authentication, since
// clients read it before they sign in to learn which API to speak.

function buildInfo(): BuildInfo {
  // The build is when this compiled file was written (tsc or the Lambda bundle).
  let time = Math.floor(Date.now() / 1000);
  try {
    time = Math.floor(statSync(fileURLToPath(import.meta.url)).mtimeMs / 1000);
  } catch {
    // a bundle without a file on disk: the start of this process stands in
  }
  const sha = process.env.STRATUS_GIT_SHA;
  return { time, user: process.env.STRATUS_BUILD_USER ?? 'stratus', ...(sha ? { gitSha: sha } : {}) };
}

const build = buildInfo();

export async function versionRoute(): Promise<HttpResponse> {
  return { status: 200, body: versionBody(build) };
}
