// Where functions remember the nonces of request tokens they accepted (see auth.ts): a row per nonce in
// integration.used_request_nonces, kept until the token would be refused as expired anyway, then
// purged by integration.tick(). The primary key makes a concurrent replay lose the race.
import type { Sql } from 'postgres';
import type { ClaimNonce } from './auth.ts';

export function nonceStore(sql: Sql): ClaimNonce {
  return async (nonce, expiresAt) => {
    const rows = await sql`
      insert into integration.used_request_nonces (nonce, expires_at) values (${nonce}, ${expiresAt})
      on conflict (nonce) do nothing
      returning 1`;
    return rows.length === 1;
  };
}
