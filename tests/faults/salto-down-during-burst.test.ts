// SALTO down for a while in the middle of a burst of 1,000 bookings: once it answers again, every
// booking's permission is in SALTO exactly as desired, nothing is written twice, no permanent
// permission is lost, and every double booking is emailed once.
import { afterAll, describe, expect, it } from 'vitest';
import { endBackoff } from '../support/fixtures.ts';
import { connect } from '../support/stack.ts';
import { buildings, burst, closeAll, expectAlertsEmailedOnce, expectSaltoExactlyAsDesired, settle } from './support.ts';

const sql = connect(6);
afterAll(() => sql.end());

describe('SALTO down during a burst', { timeout: 110_000 }, () => {
  it('a burst of 1,000 bookings with two of four SALTO servers refusing connections mid-burst: all written once they are back', async () => {
    const targets = await buildings(sql, 4, 50, 5); // 4 x 50 apartments x 5 facilities = 1,000 bookings
    const [down1, down2] = targets as [(typeof targets)[0], (typeof targets)[0]];
    try {
      const made = await burst(sql, targets, {
        doubles: 5,
        during: async (done) => {
          if (done === 250) {
            await down1.simulator.setFaults({ refuseConnections: { transports: ['http', 'stp'] } });
            await down2.simulator.setFaults({ refuseConnections: { transports: ['http', 'stp'] } });
          }
        },
      });
      expect(made.bookingIds).toHaveLength(1_020);

      // While they are down: their work waits in backoff with the reason, the other buildings proceed.
      const [pending] = await sql<{ n: number; attempts: number; error: string }[]>`
        select count(*)::int as n, max(attempts) as attempts, max(last_error) as error
        from integration.access_level_work where building_id = any (${[down1.id, down2.id]}::uuid[])`;
      expect(pending!.n).toBeGreaterThan(0);
      expect(pending!.attempts).toBeGreaterThan(0);
      expect(pending!.error).toMatch(/refused|ECONNREFUSED|connect/i);

      await down1.simulator.clearFaults();
      await down2.simulator.clearFaults();
      // The backoff has run out (time moved, not waited for: up to ten minutes in production).
      await endBackoff(sql, [down1.id, down2.id]);
      await settle(sql, targets, made, { timeoutMs: 80_000 });
      for (const building of targets) await expectSaltoExactlyAsDesired(sql, building);
      for (const building of targets) await expectAlertsEmailedOnce(sql, building, made.doubleBookingIds);
    } finally {
      await closeAll(targets);
    }
  });
});
