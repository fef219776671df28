// The environment each edge function needs, by name: what hosted Supabase sets itself and what the
// deploy must set with `supabase secrets set`. One list for the functions (which refuse to work
// without theirs, naming what is missing), the health function (which reports missing names, never
// values) and `connecx-salto doctor --deploy`.

export interface FunctionSecret {
  name: string;
  /** Set by hosted Supabase for every function; the deploy sets the others. */
  setBySupabase?: true;
  /** Optional settings have a default; a missing optional one is not a problem. */
  optional?: true;
  /** What it is for, for the doctor's report and the README. */
  purpose: string;
}

const shared: FunctionSecret[] = [
  { name: 'SUPABASE_URL', setBySupabase: true, purpose: "the project's URL" },
  { name: 'SUPABASE_DB_URL', setBySupabase: true, purpose: 'the database the function connects to' },
  {
    name: 'FUNCTIONS_SECRET',
    purpose: 'signs and checks request tokens; the same value as the Vault secret functions_secret',
  },
  {
    name: 'DB_POOLER_URL',
    optional: true,
    purpose: "the transaction pooler's connection string (port 6543); used instead of SUPABASE_DB_URL when set",
  },
];

export const functionSecrets: Record<string, FunctionSecret[]> = {
  health: shared,
  'salto-sync': shared,
  'salto-cleanup': shared,
  'send-alerts': [
    ...shared,
    { name: 'RESEND_API_KEY', purpose: "Resend's API key, to send the alert emails" },
    { name: 'ALERT_FROM', purpose: 'the sender of alert emails, e.g. connecX alerts <alerts@your-domain>' },
    { name: 'ALERT_LINK_SECRET', purpose: 'signs the action links in double-booking emails (16+ characters)' },
    {
      name: 'ALERT_PAGE_URL',
      purpose: "where the action page is served (action-page/); the emails' action links open it",
    },
    { name: 'RESEND_BASE_URL', optional: true, purpose: "Resend's API address (default https://api.resend.com)" },
    { name: 'ALERT_LINK_TTL_HOURS', optional: true, purpose: 'how long action links work (default 72)' },
    { name: 'RESEND_MAX_PER_SECOND', optional: true, purpose: 'emails per second at most (default 2)' },
  ],
};

/** The required names `env` lacks (empty values count as missing), per function. Names only. */
export function missingFunctionSecrets(env: Record<string, string | undefined>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(functionSecrets).map(([fn, secrets]) => [
      fn,
      secrets.filter((s) => !s.optional && !env[s.name]).map((s) => s.name),
    ]),
  );
}
