// The SDK's retry pacing is the core's: one backoff for the whole code base.
export { backoffDelay, sleep, DEFAULT_BACKOFF, type BackoffOptions } from '../core/backoff.js';
