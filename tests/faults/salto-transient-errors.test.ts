// SALTO answering a transient error for a share of calls (SHIP code 4 "general error" and HTTP 503,
// neither applied): the sync retries with backoff until every booking is in SALTO exactly as desired,
// nothing written twice, every alert emailed once, and the waiting work says why in plain words.
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../support/stack.ts';
import {
  buildings,
  burst,
  closeAll,
  expectAlertsEmailedOnce,
  expectReadable,
  expectSaltoExactlyAsDesired,
  settle,
} from './support.ts';

const sql = connect(4);
afterAll(() => sql.end());

describe('SALTO answering transient errors', { timeout: 240_000 }, () => {
  it('a fifth of the calls refused with SHIP code 4 or HTTP 503: every booking is written, none twice', async () => {
    const targets = await buildings(sql, 3, 12, 3);
    try {
      for (const building of targets) {
        await building.simulator.setFaults({
          shipError: { code: 4, message: 'General error (injected)', share: 0.15 },
          httpStatus: { status: 503, share: 0.05 },
        });
      }
      const made = await burst(sql, targets, { doubles: 3 });
      const failing = await sql<{ last_error: string }[]>`
        select last_error from integration.access_level_work
        where building_id = any (${targets.map((b) => b.id)}::uuid[]) and last_error is not null`;
      for (const row of failing) expectReadable(row.last_error);

      // A building's pass reads the site's calendars before its access levels: a refused calendar read
      // fails the whole batch, so a building may need many passes; on a loaded machine they are slow.
      await settle(sql, targets, made, { timeoutMs: 180_000, skipBackoff: true });
      const refused = targets.flatMap((b) => b.simulator.requests()).filter((r) => r.fault !== undefined);
      expect(refused.length, 'faults were injected').toBeGreaterThan(0);
      for (const building of targets) await building.simulator.clearFaults();
      for (const building of targets) await expectSaltoExactlyAsDesired(sql, building);
      for (const building of targets) await expectAlertsEmailedOnce(sql, building, made.doubleBookingIds);
    } finally {
      await closeAll(targets);
    }
  });
});
