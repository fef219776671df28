/**
 * `traffic`: a building's SALTO traffic log (integration.salto_traffic) for support, oldest first.
 * The log holds bodies only and is redacted as it is written (integration.record_salto_traffic).
 */
import type { Sql } from 'postgres';
import type { Building } from './commands.ts';

export interface TrafficExport {
  at: string;
  requestName: string;
  sent: boolean;
  durationMs: number | null;
  request: string;
  reply: string | null;
  error: string | null;
}

export async function exportTraffic(sql: Sql, building: Building, limit: number): Promise<TrafficExport[]> {
  const rows = await sql<
    {
      at: Date;
      request_name: string;
      sent: boolean;
      duration_ms: string | null;
      request: string;
      reply: string | null;
      error: string | null;
    }[]
  >`
    select at, request_name, sent, duration_ms, request, reply, error from (
      select * from integration.salto_traffic where building_id = ${building.id} order by id desc limit ${limit}
    ) as latest order by id`;
  return rows.map((r) => ({
    at: r.at.toISOString(),
    requestName: r.request_name,
    sent: r.sent,
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    request: r.request,
    reply: r.reply,
    error: r.error,
  }));
}
