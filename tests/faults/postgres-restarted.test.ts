// PostgreSQL restarted in the middle of a sync run: the pg_net dispatcher, the functions' and the
// tests' connection pools reconnect on their own, and the pipeline finishes the burst with SALTO
// exactly as desired, nothing written twice, every alert emailed once.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { paths } from '../../local/config.ts';
import { book } from '../support/fixtures.ts';
import { connect, eventually, functionAuthorization, stackEnv } from '../support/stack.ts';
import { buildings, burst, closeAll, expectAlertsEmailedOnce, expectSaltoExactlyAsDesired, settle } from './support.ts';

const sql = connect(4);
const { functionsUrl } = stackEnv();
afterAll(() => sql.end());

function restartPostgres() {
  const pgCtl = [
    '/usr/lib/postgresql/15/bin/pg_ctl',
    '-D',
    paths.dataDir,
    'restart',
    '-m',
    'fast',
    '-w',
    '-l',
    paths.postgresLog,
  ];
  const asRoot = process.getuid?.() === 0;
  const result = asRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', ...pgCtl], { encoding: 'utf8' })
    : spawnSync(pgCtl[0]!, pgCtl.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`pg_ctl restart failed: ${result.stderr || result.stdout}`);
}

describe('PostgreSQL restarted mid-run', { timeout: 110_000 }, () => {
  it('a restart while the sync writes a burst: everything reconnects and every booking ends in SALTO once', async () => {
    const targets = await buildings(sql, 2, 30, 3);
    try {
      for (const building of targets) await building.simulator.setFaults({ latencyMs: 30 });
      const made = await burst(sql, targets, { doubles: 3 });
      const writes = () =>
        targets.reduce(
          (n, b) => n + b.simulator.requests({ requestName: 'SaltoDBGroup.Update' }).filter((r) => r.applied).length,
          0,
        );
      await eventually(async () => (writes() >= 5 ? true : undefined), 20_000, 'the sync writing');

      restartPostgres();
      expect(writes(), 'the restart landed mid-run').toBeLessThan(targets.length * 30);

      // The functions reconnect: health reaches the database again.
      await eventually(
        async () => {
          const response = await fetch(`${functionsUrl}/health`, {
            headers: { Authorization: await functionAuthorization('health', { method: 'GET' }) },
          });
          return response.status === 200 ? true : undefined;
        },
        20_000,
        'health answering 200 after the restart',
      );
      // Leases the interrupted runs could not release run out (time moved, not waited for): the
      // sync's building leases, and the lease on an alert email the restart caught mid-send (sent
      // again under the same idempotency key, so the manager still gets it once).
      const ids = targets.map((b) => b.id);
      await sql`update integration.building_leases set leased_until = now() - interval '1 second' where building_id = any (${ids}::uuid[])`;
      await sql`update integration.email_outbox set leased_until = now() - interval '1 second' where building_id = any (${ids}::uuid[]) and status = 'sending'`;

      // The dispatcher reconnected: a new booking is written on its wake-up alone.
      const building = targets[0]!;
      const apartment = Object.values(building.apartments)[0]!;
      const [pool] = Object.values(building.facilities).slice(-1);
      const startsAt = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 20 * 86_400_000);
      const fresh = await book(
        sql,
        { as: 'service_role' },
        { facilityId: pool!.id, apartmentId: apartment.id, startsAt, endsAt: new Date(startsAt.getTime() + 3_600_000) },
      );
      made.bookingIds.push(fresh);
      made.doubleBookingIds.push(fresh); // the apartment already holds the pool: this one waits and is emailed
      await settle(sql, targets, made, { timeoutMs: 60_000 });
      // The access levels being recorded when PostgreSQL stopped lose that record and are written
      // again (one per building at most, each building written by one task at a time).
      for (const b of targets) await expectSaltoExactlyAsDesired(sql, b, { repeatedWrites: 1 });
      for (const b of targets) await expectAlertsEmailedOnce(sql, b, made.doubleBookingIds);
    } finally {
      await closeAll(targets);
    }
  });
});
