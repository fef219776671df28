// Calls an edge function of the local stack the way the database and operators do: with a fresh,
// single-use token for POST <name>, minted from the function secret (.local/stack.env).
import { mintFunctionToken } from '../src/shared/functions/auth.ts';

export async function callFunction(
  env: Record<string, string>,
  name: string,
  options: { path?: string; query?: string; body?: unknown } = {},
): Promise<unknown> {
  const url = `${env.FUNCTIONS_URL}/${name}${options.path ?? ''}${options.query ? `?${options.query}` : ''}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${await mintFunctionToken(env.FUNCTIONS_SECRET!, name, { method: 'POST' })}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(options.body ?? {}),
  });
  if (!response.ok) throw new Error(`${name} answered ${response.status}: ${await response.text()}`);
  return response.json();
}
