// Every wake-up lost (pg_net sends them to a port where nothing listens, and never retries): the
// minute jobs alone get every booking written and every double booking emailed, once.
import { afterAll, describe, expect, it } from 'vitest';
import { syncNow } from '../support/fixtures.ts';
import { connect, eventually, stackEnv } from '../support/stack.ts';
import { buildings, burst, closeAll, expectAlertsEmailedOnce, expectSaltoExactlyAsDesired, settle } from './support.ts';

const sql = connect(4);
afterAll(() => sql.end());

describe('every wake-up lost', { timeout: 90_000 }, () => {
  it('a burst whose every wake-up is dropped: the minute jobs write every booking and send every alert once', async () => {
    const targets = await buildings(sql, 2, 20, 3);
    const [original] = await sql<
      { url: string }[]
    >`select decrypted_secret as url from vault.decrypted_secrets where name = 'project_url'`;
    try {
      await sql`update vault.secrets set secret = 'http://127.0.0.1:9' where name = 'project_url'`;
      // Wake-ups queued before that (saving the buildings' IDs wakes the sync) still go to the function:
      // wait until pg_net has sent them all (a request leaves the queue when its batch commits, after
      // its answer)...
      await eventually(
        async () => {
          const [queued] = await sql<{ n: number }[]>`
            select count(*)::int as n from net.http_request_queue
            where url like ${`${original!.url.replace(/\/+$/, '')}/%`}`;
          return queued!.n === 0 ? true : undefined;
        },
        30_000,
        'the wake-ups queued before the change to be sent',
      );
      // ...then wait for the passes they started, and any still running from an earlier test, to end
      // (a waiting call joins the running pass and returns when it and the passes asked for meanwhile
      // are over): none of them would find the burst.
      await syncNow(stackEnv().functionsUrl, stackEnv().functionsSecret);
      // pg_net's requests from here on: the burst's wake-ups, not the failures of anything earlier.
      const [since] = await sql<
        { id: string }[]
      >`select (case when is_called then last_value else 0 end)::text as id from net.http_request_queue_id_seq`;
      const made = await burst(sql, targets, { doubles: 4 });
      await new Promise((r) => setTimeout(r, 1500));
      // Saving the buildings' IDs had them checked against SALTO (reads); no booking was written.
      for (const building of targets)
        expect(
          building.simulator.requests({ requestName: 'SaltoDBGroup.Update' }),
          'nothing was written to SALTO without a wake-up',
        ).toHaveLength(0);
      const [lost] = await sql`
        select count(*)::int as n from net._http_response
        where id > ${since!.id}::bigint and error_msg is not null`;
      expect(lost!.n).toBeGreaterThan(0);

      await sql`update vault.secrets set secret = ${original!.url} where name = 'project_url'`;
      // What pg_cron runs every minute (the sync's and the alerts' jobs), run here a few times.
      const jobs = await sql<{ command: string }[]>`
        select command from cron.job where jobname in ('salto-sync-every-minute', 'send-alerts-every-minute')`;
      expect(jobs).toHaveLength(2);
      for (let minute = 0; minute < 3; minute++) {
        for (const job of jobs) await sql.unsafe(job.command);
        await new Promise((r) => setTimeout(r, 1000));
      }
      await settle(sql, targets, made, { timeoutMs: 30_000, nudge: false });
      for (const building of targets) await expectSaltoExactlyAsDesired(sql, building);
      for (const building of targets) await expectAlertsEmailedOnce(sql, building, made.doubleBookingIds);
    } finally {
      await sql`update vault.secrets set secret = ${original!.url} where name = 'project_url'`;
      await closeAll(targets);
    }
  });
});
