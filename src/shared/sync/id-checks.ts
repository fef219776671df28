/**
 * IDs checked when they are saved.
 *
 * Saving a facility's Zone ID or an apartment's Access Control ID queues a check
 * (integration.salto_id_checks) and wakes salto-sync, which runs these checks beside its sync pass:
 * it leases each building with due checks (so its SALTO server still sees one caller at a time), asks
 * SALTO whether it lists each ID, and records the answers (integration.record_salto_id_checks), which
 * marks and alerts an unknown ID and resolves the alert of a known one.
 *
 * One rule for case: an ID is known only when SALTO lists it spelled exactly so. Whether SALTO itself
 * matches ExtIDs regardless of case is not documented; exact spelling is right either way, and an ID
 * that differs from one SALTO lists only in case gets that one as its first suggestion.
 */
import type { Sql } from 'postgres';
import {
  isSaltoError,
  type SaltoClient,
  type SaltoEndpointInput,
  ShipCode,
  type ShipExchange,
} from '../salto/index.ts';
import type { CpuBudget } from './cpu-budget.ts';
import { type BuildingContext, type BuildingContextJson, buildingContext } from './store.ts';

export type SaltoIdKind = 'zone' | 'access_level';

/** A due check of one saved ID. */
export interface SaltoIdCheck {
  id: string;
  kind: SaltoIdKind;
  saltoId: string;
}

export interface SaltoIdCheckResult {
  id: string;
  saltoId: string;
  status: 'known' | 'unknown' | 'unreachable';
  /** For an unknown ID: the closest IDs SALTO lists. */
  suggestions: string[];
  /** For unreachable: what went wrong. */
  error?: string;
}

/** Access level checks of one building answered one read each; more read the whole list once. */
const READS_BEFORE_LIST = 5;

/** SALTO ExtIDs hold at most 32 characters. */
const MAX_EXT_ID_LENGTH = 32;

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The IDs SALTO lists that are closest to `wanted`, best first, at most `limit`: the same letters in
 * another case first, then IDs within a few edits of it (ignoring case: about one edit in four
 * characters, at least one), then IDs that contain it or that it contains. None when nothing is close.
 */
export function closestSaltoIds(wanted: string, known: Iterable<string>, limit = 3): string[] {
  const target = wanted.toLowerCase();
  const allowed = Math.max(1, Math.floor(target.length / 4));
  const scored: { id: string; score: number }[] = [];
  for (const id of known) {
    // Never the ID itself, nor anything longer than an ExtID can be (a reply SALTO should not send).
    if (id === wanted || id.length > MAX_EXT_ID_LENGTH) continue;
    const candidate = id.toLowerCase();
    if (candidate === target) {
      scored.push({ id, score: 0 });
      continue;
    }
    if (Math.abs(candidate.length - target.length) <= allowed) {
      const distance = editDistance(target, candidate);
      if (distance <= allowed) {
        scored.push({ id, score: distance });
        continue;
      }
    }
    if (target.length >= 2 && candidate.length >= 2 && (candidate.includes(target) || target.includes(candidate))) {
      scored.push({ id, score: 10 + Math.abs(candidate.length - target.length) });
    }
  }
  scored.sort((x, y) => x.score - y.score || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return scored.slice(0, limit).map((s) => s.id);
}

/**
 * Asks SALTO about each ID: zones from one list read; access levels read one by one, or listed once.
 * `cpu` is charged for each ID judged (an unknown one is compared with every ID SALTO lists).
 */
export async function checkSaltoIds(
  client: SaltoClient,
  checks: readonly SaltoIdCheck[],
  cpu?: CpuBudget,
): Promise<SaltoIdCheckResult[]> {
  const results: SaltoIdCheckResult[] = [];
  const judge = (check: SaltoIdCheck, known: ReadonlySet<string>) => {
    cpu?.idChecks(1, known.has(check.saltoId) ? 0 : known.size);
    results.push({
      id: check.id,
      saltoId: check.saltoId,
      status: known.has(check.saltoId) ? 'known' : 'unknown',
      suggestions: known.has(check.saltoId) ? [] : closestSaltoIds(check.saltoId, known),
    });
  };

  const zones = checks.filter((c) => c.kind === 'zone');
  if (zones.length > 0) {
    const known = new Set((await client.listZones()).map((z) => z.id));
    for (const check of zones) judge(check, known);
  }

  const levels = checks.filter((c) => c.kind === 'access_level');
  let listed: Set<string> | undefined;
  const list = async () => {
    listed ??= new Set(await client.listAccessLevelIds());
    return listed;
  };
  if (levels.length > READS_BEFORE_LIST) {
    const known = await list();
    for (const check of levels) judge(check, known);
  } else {
    for (const check of levels) {
      try {
        const level = await client.readAccessLevel(check.saltoId);
        // SALTO answered with this access level: known when it spells it as saved.
        if (level.id === check.saltoId) judge(check, new Set([check.saltoId]));
        else judge(check, await list());
      } catch (error) {
        if (!(isSaltoError(error) && error.code === ShipCode.elementNotFound)) throw error;
        judge(check, await list());
      }
    }
  }
  return results;
}

export function createIdCheckStore(sql: Sql) {
  return {
    /** Leases up to `limit` buildings with due checks, each with its context and its due checks. */
    async take(
      invocation: string,
      leaseSeconds: number,
      limit: number,
    ): Promise<{ building: BuildingContext; checks: SaltoIdCheck[] }[]> {
      const rows = await sql<
        { taken: { building: BuildingContextJson; checks: { id: string; kind: SaltoIdKind; salto_id: string }[] } }[]
      >`
        select integration.take_salto_id_checks(${invocation}, make_interval(secs => ${leaseSeconds}), ${limit}) as taken`;
      return rows.map(({ taken }) => ({
        building: buildingContext(taken.building),
        checks: taken.checks.map((c) => ({ id: c.id, kind: c.kind, saltoId: c.salto_id })),
      }));
    },

    /** Records the answers and releases the building's lease. */
    async record(buildingId: string, invocation: string, results: SaltoIdCheckResult[]): Promise<number> {
      const json = results.map((r) => ({
        id: r.id,
        salto_id: r.saltoId,
        status: r.status,
        suggestions: r.suggestions,
        error: r.error ?? null,
      }));
      const [row] = await sql<{ n: number }[]>`
        select integration.record_salto_id_checks(${buildingId}, ${invocation}, ${sql.json(json)}) as n`;
      return row?.n ?? 0;
    },

    async releaseLease(buildingId: string, invocation: string): Promise<void> {
      await sql`select integration.release_lease(${buildingId}, ${invocation})`;
    },

    /** Whether any check is due (in a building another invocation holds, say). */
    async anyDue(): Promise<boolean> {
      const [row] = await sql<{ due: boolean }[]>`select exists (select from integration.salto_id_checks_due()) as due`;
      return row?.due ?? false;
    },
  };
}

export type IdCheckStore = ReturnType<typeof createIdCheckStore>;

export interface IdCheckOptions {
  store: IdCheckStore;
  saltoClient: (endpoint: SaltoEndpointInput, hooks?: { onExchange?: (exchange: ShipExchange) => void }) => SaltoClient;
  invocationId: string;
  leaseSeconds?: number;
  /** Buildings checked per round (at once). */
  limit?: number;
  /**
   * The worker's CPU budget (cpu-budget.ts), shared with the sync pass beside the checks: no round
   * starts once the current grant is spent.
   */
  cpu?: CpuBudget;
  /** Asks for the next invocation when the checks stop at the CPU budget with checks still due. */
  wakeNextInvocation?: () => Promise<void>;
  /**
   * How long to keep taking checks whose building another invocation holds (a sync pass writing its
   * access levels): they are taken as soon as it lets go, not at the next minute's wake-up.
   */
  waitForLeasesMs?: number;
  log?: (line: string) => void;
}

/** Pause between rounds while due checks wait for a building's lease. */
const LEASE_RETRY_MS = 250;

/**
 * Makes the due ID checks, `limit` buildings a round, until none is due, `waitForLeasesMs` has
 * passed or the CPU budget is spent (then, with checks still due, it asks for the next invocation);
 * returns how many checks were recorded.
 */
export async function runSaltoIdChecks(options: IdCheckOptions): Promise<number> {
  const { cpu } = options;
  const deadline = Date.now() + (options.waitForLeasesMs ?? 15_000);
  let recorded = 0;
  for (;;) {
    if (cpu?.exhausted()) {
      cpu.round();
      if (options.wakeNextInvocation && (await options.store.anyDue())) {
        await options.wakeNextInvocation().catch((error: unknown) => {
          options.log?.(
            `could not ask for the next invocation for the SALTO ID checks (the minute job will): ${error instanceof Error ? error.message : String(error)}`,
          );
        });
      }
      return recorded;
    }
    const { taken, checked } = await checkRound(options);
    recorded += checked;
    if (Date.now() >= deadline) return recorded;
    if (taken > 0) continue;
    cpu?.round();
    if (!(await options.store.anyDue())) return recorded;
    await new Promise((resolve) => setTimeout(resolve, LEASE_RETRY_MS));
  }
}

async function checkRound(options: IdCheckOptions): Promise<{ taken: number; checked: number }> {
  const { store, invocationId, leaseSeconds = 60, limit = 10, cpu } = options;
  cpu?.round();
  const taken = await store.take(invocationId, leaseSeconds, limit);
  const recorded = await Promise.all(
    taken.map(async ({ building, checks }) => {
      if (building.endpoint === undefined) {
        await store.releaseLease(building.buildingId, invocationId);
        return 0;
      }
      const client = options.saltoClient(
        building.endpoint,
        cpu && { onExchange: (exchange) => cpu.exchange(exchange) },
      );
      let results: SaltoIdCheckResult[];
      try {
        results = await checkSaltoIds(client, checks, cpu);
      } catch (error) {
        // SALTO did not answer (or not usably): the checks are tried again within minutes.
        const text = error instanceof Error ? error.message : String(error);
        options.log?.(`building ${building.buildingId}: SALTO ID checks failed: ${text}`);
        results = checks.map((c) => ({
          id: c.id,
          saltoId: c.saltoId,
          status: 'unreachable',
          suggestions: [],
          error: text,
        }));
      } finally {
        await client.close().catch(() => {});
      }
      try {
        return await store.record(building.buildingId, invocationId, results);
      } catch (error) {
        await store.releaseLease(building.buildingId, invocationId).catch(() => {});
        throw error;
      }
    }),
  );
  return { taken: taken.length, checked: recorded.reduce((a, b) => a + b, 0) };
}
