// Background work after the response: hosted Supabase keeps the instance alive for promises given to
// EdgeRuntime.waitUntil; plain Deno (the local stack) keeps running anyway.
declare const EdgeRuntime: { waitUntil(promise: Promise<unknown>): void } | undefined;

export function waitUntil(work: Promise<unknown>): void {
  if (typeof EdgeRuntime !== 'undefined') EdgeRuntime.waitUntil(work);
}
