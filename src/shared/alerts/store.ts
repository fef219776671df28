/**
 * The send-alerts function's access to the database: leasing due alert emails, the facts an email
 * states, and each attempt's outcome; and, for action links, the preview and the action. The SQL
 * functions it calls are in the integration schema.
 */
import type { Sql } from 'postgres';
import type { LinkUse } from './action-replies.ts';
import type { AlertFacts, AlertKind } from './email-content.ts';

/** A row of integration.email_outbox: an alert email waiting to be sent, reporting one alert or a digest. */
export interface OutboxRow {
  id: string;
  buildingId: string;
  kind: AlertKind;
  recipients: string[];
  attempts: number;
  idempotencyKey: string;
  /** Set once the first attempt rendered the email; every retry sends exactly this. */
  rendered?: { subject: string; html: string; text: string };
}

/** Everything about an alert that is not the action link, which the sender adds. */
export type AlertFactsWithoutAction = Omit<AlertFacts, 'action'> & {
  bookingId: string | null;
  waitingStartsAt?: Date;
};

export interface AlertStore {
  /** Leases up to `limit` due emails for `leaseSeconds`. */
  lease(limit: number, leaseSeconds: number): Promise<OutboxRow[]>;
  /**
   * The alerts an email reports (integration.email_outbox_alerts) whose problem lasts: the first
   * `limit` in the order the email lists them (their bookings' start, apartment, then when they were
   * raised), how many in all, and how many it was to report that were resolved before it was sent.
   */
  reportedAlerts(outboxId: string, limit: number): Promise<{ alertIds: string[]; total: number; resolved: number }>;
  alertFacts(alertId: string): Promise<AlertFactsWithoutAction | undefined>;
  saveRendered(id: string, rendered: { subject: string; html: string; text: string }): Promise<void>;
  markSent(id: string, resendId: string): Promise<void>;
  markRetry(id: string, delayMs: number, error: string): Promise<void>;
  markFailed(id: string, error: string): Promise<void>;
  /** Not sent, on purpose (every alert it reports was resolved first), with the reason. */
  markSkipped(id: string, reason: string): Promise<void>;
  /** Milliseconds until the next email is due; undefined when nothing waits. */
  nextDueInMs(): Promise<number | undefined>;
  actionPreview(alertId: string, buildingId: string, bookingId: string): Promise<ActionPreview>;
  act(alertId: string, buildingId: string, bookingId: string): Promise<ActionOutcome>;
  /** A used link: when, with what outcome, and to whom the emails carrying it were sent. */
  linkUse(alertId: string): Promise<LinkUse | undefined>;
}

export type ActionOutcome =
  | 'granted'
  | 'not_waiting'
  | 'booking_gone'
  | 'already_used'
  | 'other_building'
  | 'not_actionable'
  | 'unknown_alert';

export type ActionPreview =
  | {
      status: 'ok';
      building_name: string;
      time_zone: string;
      apartment_label: string;
      facility_name: string;
      waiting_booking: { id: string; starts_at: string; ends_at: string };
      holders_wait_until: string;
      holding_bookings: { id: string; starts_at: string; ends_at: string }[];
    }
  | { status: Exclude<ActionOutcome, 'granted'> };

interface Row {
  id: string;
  building_id: string;
  kind: AlertKind;
  recipients: string[];
  attempts: number;
  idempotency_key: string;
  subject: string | null;
  html: string | null;
  text_body: string | null;
}

export function createAlertStore(sql: Sql): AlertStore {
  return {
    async lease(limit, leaseSeconds) {
      const rows = await sql<Row[]>`
        select id, building_id, kind, recipients, attempts, idempotency_key, subject, html, text_body
        from integration.lease_alert_emails(${limit}, make_interval(secs => ${leaseSeconds}))`;
      return rows.map((r) => ({
        id: r.id,
        buildingId: r.building_id,
        kind: r.kind,
        recipients: r.recipients,
        attempts: r.attempts,
        idempotencyKey: r.idempotency_key,
        rendered:
          r.subject !== null && r.html !== null && r.text_body !== null
            ? { subject: r.subject, html: r.html, text: r.text_body }
            : undefined,
      }));
    },

    async reportedAlerts(outboxId, limit) {
      const rows = await sql<{ alert_id: string; total: number }[]>`
        select l.alert_id, (count(*) over ())::integer as total
        from integration.email_outbox_alerts as l
        join integration.alerts as a on a.id = l.alert_id
        left join public.bookings as b on b.id = a.booking_id
        left join public.apartments as ap on ap.id = b.apartment_id
        where l.outbox_id = ${outboxId} and a.resolved_at is null
        order by b.starts_at nulls last, ap.label, a.created_at, a.id
        limit ${limit}`;
      const [{ resolved } = { resolved: 0 }] = await sql<{ resolved: number }[]>`
        select count(*)::integer as resolved
        from integration.email_outbox_alerts as l
        join integration.alerts as a on a.id = l.alert_id
        where l.outbox_id = ${outboxId} and a.resolved_at is not null`;
      return { alertIds: rows.map((r) => r.alert_id), total: rows[0]?.total ?? 0, resolved };
    },

    async alertFacts(alertId) {
      const [a] = await sql<
        {
          id: string;
          kind: AlertKind;
          booking_id: string | null;
          details: Record<string, unknown>;
          created_at: Date;
          building_name: string;
          timezone: string;
          lead_minutes: number | null;
          starts_at: Date | null;
          ends_at: Date | null;
          apartment_label: string | null;
          facility_name: string | null;
          access_control_id: string | null;
          access_control_facility_id: string | null;
          state: string | null;
          reason: string | null;
        }[]
      >`
        select a.id, a.kind, a.booking_id, a.details, a.created_at, bl.name as building_name, bl.timezone,
          (extract(epoch from s.access_lead_time) / 60)::integer as lead_minutes,
          b.starts_at, b.ends_at, ap.label as apartment_label, f.name as facility_name,
          ap.access_control_id, f.access_control_facility_id,
          case when b.id is not null then coalesce(ba.state, 'pending') end as state, ba.reason
        from integration.alerts as a
        join public.buildings as bl on bl.id = a.building_id
        left join integration.email_settings as s on s.building_id = a.building_id
        left join public.bookings as b on b.id = a.booking_id
        left join public.apartments as ap on ap.id = b.apartment_id
        left join public.facilities as f on f.id = b.facility_id
        left join integration.booking_access as ba on ba.booking_id = b.id
        where a.id = ${alertId}`;
      if (!a) return undefined;
      const details = a.details;
      let usedBy: string[] | undefined;
      let suggestions: string[] | undefined;
      if (a.kind === 'unknown_salto_id') {
        const rows =
          details.what === 'zone'
            ? await sql<{ label: string }[]>`
              select f.name as label from public.facilities as f join integration.alerts as al on al.building_id = f.building_id
              where al.id = ${alertId} and (f.id::text = ${String(details.facility_id ?? '')} or f.access_control_facility_id = ${String(details.zone_id ?? '')})
              order by f.name`
            : await sql<{ label: string }[]>`
              select ap.label from public.apartments as ap join integration.alerts as al on al.building_id = ap.building_id
              where al.id = ${alertId} and ap.access_control_id = ${String(details.access_level_id ?? '')}
              order by ap.label`;
        usedBy = [...new Set(rows.map((r) => r.label))];
        if (!Array.isArray(details.suggestions)) {
          // Raised by the sync or the nightly check: the closest IDs are those the ID's own check found.
          const kind = details.what === 'zone' ? 'zone' : 'access_level';
          const saltoId = String((kind === 'zone' ? details.zone_id : details.access_level_id) ?? '');
          const [check] = await sql<{ suggestions: string[] }[]>`
            select c.suggestions from integration.salto_id_checks as c join integration.alerts as al on al.building_id = c.building_id
            where al.id = ${alertId} and c.kind = ${kind} and c.salto_id = ${saltoId} and c.status = 'unknown'
            order by c.checked_at desc nulls last
            limit 1`;
          suggestions = check?.suggestions;
        }
      }
      const booking =
        a.starts_at && a.ends_at
          ? {
              startsAt: a.starts_at,
              endsAt: a.ends_at,
              apartmentLabel: a.apartment_label ?? '',
              facilityName: a.facility_name ?? '',
              accessLevelId: a.access_control_id,
              zoneId: a.access_control_facility_id,
              state: a.state,
              // The booking's reason as it stands (what to fix now), else the one recorded with the alert.
              reason: a.reason ?? (typeof details.reason === 'string' ? details.reason : null),
            }
          : undefined;
      const waiting = (details.waiting_booking as { starts_at?: string } | undefined)?.starts_at;
      // A holder that holds because a manager acted from an earlier email: this email must not offer to
      // swap them back.
      let override: { grantedAt: Date } | undefined;
      if (a.kind === 'double_booking') {
        const holders = ((details.holding_bookings as { id?: string }[] | null) ?? [])
          .map((h) => h.id)
          .filter((id): id is string => typeof id === 'string');
        if (holders.length) {
          const [o] = await sql<{ granted_at: Date }[]>`
            select max(o.granted_at) as granted_at from integration.permission_overrides as o
            where o.booking_id = any(${holders}::uuid[])`;
          if (o?.granted_at) override = { grantedAt: o.granted_at };
        }
      }
      return {
        id: a.id,
        kind: a.kind,
        createdAt: a.created_at,
        details,
        bookingId: a.booking_id,
        building: { name: a.building_name, timeZone: a.timezone },
        booking,
        usedBy,
        suggestions,
        leadTimeMinutes: a.lead_minutes ?? undefined,
        waitingStartsAt: waiting ? new Date(waiting) : undefined,
        override,
      };
    },

    async saveRendered(id, r) {
      await sql`update integration.email_outbox set subject = ${r.subject}, html = ${r.html}, text_body = ${r.text} where id = ${id}`;
    },

    async markSent(id, resendId) {
      await sql`
        update integration.email_outbox
        set status = 'sent', resend_id = ${resendId}, sent_at = now(), attempts = attempts + 1, last_error = null, leased_until = null
        where id = ${id}`;
    },

    async markRetry(id, delayMs, error) {
      await sql`
        update integration.email_outbox
        set status = 'pending', attempts = attempts + 1, last_error = ${error}, leased_until = null,
          next_attempt_at = clock_timestamp() + make_interval(secs => ${delayMs / 1000})
        where id = ${id}`;
    },

    async markFailed(id, error) {
      await sql`
        update integration.email_outbox
        set status = 'failed', attempts = attempts + 1, last_error = ${error}, leased_until = null
        where id = ${id}`;
    },

    async markSkipped(id, reason) {
      await sql`
        update integration.email_outbox
        set status = 'skipped', last_error = ${reason}, leased_until = null
        where id = ${id}`;
    },

    async nextDueInMs() {
      const [row] = await sql<{ due_in: string | null }[]>`select integration.next_alert_email_due_in() as due_in`;
      return row?.due_in === null || row?.due_in === undefined ? undefined : Number(row.due_in);
    },

    async actionPreview(alertId, buildingId, bookingId) {
      const [row] = await sql<{ preview: ActionPreview }[]>`
        select integration.alert_action_preview(${alertId}, ${buildingId}, ${bookingId}) as preview`;
      return row!.preview;
    },

    async act(alertId, buildingId, bookingId) {
      const [row] = await sql<{ outcome: ActionOutcome }[]>`
        select integration.act_on_alert(${alertId}, ${buildingId}, ${bookingId}) as outcome`;
      return row!.outcome;
    },

    async linkUse(alertId) {
      const [row] = await sql<{ acted_at: Date; outcome: string; timezone: string; emailed_to: string[] }[]>`
        select used.acted_at, used.outcome, bl.timezone,
          array(
            select distinct r from integration.email_outbox_alerts as l
            join integration.email_outbox as o on o.id = l.outbox_id, unnest(o.recipients) as r
            where l.alert_id = used.alert_id and o.status = 'sent'
            order by r) as emailed_to
        from integration.alert_actions as used
        join integration.alerts as a on a.id = used.alert_id
        join public.buildings as bl on bl.id = a.building_id
        where used.alert_id = ${alertId}`;
      return row
        ? { actedAt: row.acted_at, outcome: row.outcome, timeZone: row.timezone, emailedTo: row.emailed_to }
        : undefined;
    },
  };
}
