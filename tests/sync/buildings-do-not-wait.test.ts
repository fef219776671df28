// One function instance serves every building, one pass at a time: a booking in one building must not
// wait for another building's long batch to end before its permission is written.
import { afterAll, describe, expect, it } from 'vitest';
import { book, createTestBuilding } from '../support/fixtures.ts';
import { connect, eventually } from '../support/stack.ts';

const HOUR = 3_600_000;
const sql = connect(4);
afterAll(() => sql.end());

describe('buildings do not wait for each other', () => {
  it("a booking in one building is written while another building's slow batch is still being written", async () => {
    const slow = await createTestBuilding(sql, {
      facilities: [{ name: 'Gym' }],
      apartments: Array.from({ length: 8 }, (_, i) => ({ label: String(101 + i) })),
    });
    const quick = await createTestBuilding(sql, { facilities: [{ name: 'Pool' }], apartments: [{ label: '1' }] });
    try {
      // 8 access levels at 2 calls of 300 ms each: the slow building's batch takes about 5 s.
      await slow.simulator.setFaults({ latencyMs: 300 });
      const base = Math.ceil(Date.now() / HOUR) * HOUR + 2 * HOUR;
      for (const [i, apartment] of Object.values(slow.apartments).entries()) {
        const startsAt = new Date(base + i * HOUR);
        await book(
          sql,
          { as: 'service_role' },
          {
            facilityId: slow.facilities.Gym!.id,
            apartmentId: apartment.id,
            startsAt,
            endsAt: new Date(startsAt.getTime() + HOUR),
          },
        );
      }
      await eventually(
        async () => (slow.simulator.requests().length > 0 ? true : undefined),
        10_000,
        'the slow building being written',
      );

      const bookedAt = Date.now();
      const startsAt = new Date(base);
      await book(
        sql,
        { as: 'service_role' },
        {
          facilityId: quick.facilities.Pool!.id,
          apartmentId: quick.apartments['1']!.id,
          startsAt,
          endsAt: new Date(startsAt.getTime() + HOUR),
        },
      );
      await eventually(
        async () =>
          quick.simulator.requests({ requestName: 'SaltoDBGroup.Update' }).some((r) => r.applied) ? true : undefined,
        10_000,
        "the other building's permission in SALTO",
      );
      const quickWrittenAfter = Date.now() - bookedAt;
      const slowWrites = slow.simulator
        .requests({ requestName: 'SaltoDBGroup.Update' })
        .filter((r) => r.applied).length;
      expect(slowWrites, 'the slow building was still being written').toBeLessThan(8);
      expect(quickWrittenAfter).toBeLessThan(2_000);
    } finally {
      await slow.close();
      await quick.close();
    }
  });
});
