// Reads and validates the environment every function of this project needs (hosted Supabase sets
// SUPABASE_*; FUNCTIONS_SECRET and DB_POOLER_URL are function secrets set with `supabase secrets set`).
import { z } from 'zod';

const functionEnv = z.object({
  SUPABASE_DB_URL: z.string().min(1),
  /** The transaction pooler's connection string (Supavisor, port 6543); when set, used instead of SUPABASE_DB_URL. */
  DB_POOLER_URL: z.string().optional(),
  FUNCTIONS_SECRET: z.string().min(16, 'FUNCTIONS_SECRET must be at least 16 characters'),
});

export type FunctionEnv = z.infer<typeof functionEnv>;

export function readFunctionEnv(): FunctionEnv {
  const parsed = functionEnv.safeParse(Deno.env.toObject());
  if (!parsed.success) {
    // Names only: values may be secrets.
    const names = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`Function environment incomplete or invalid: ${names}`);
  }
  return parsed.data;
}
