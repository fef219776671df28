/**
 * The CPU a sync invocation may use, followed by a cost model (docs/decisions/0036).
 *
 * The edge runtime adds up a worker's CPU over its whole life: at 1 s the worker is retired (new
 * requests go to a fresh one) and finishes what it was given; at 2 s it is killed mid-request. A
 * retired worker finishes the pass it runs and at most one pass asked for before it was retired
 * (onePassAtATime), and the ID checks running beside them. So everything one worker runs after its
 * retirement must stay well under 1 s.
 *
 * A function cannot read its own CPU time (Deno 2.1.4's process.cpuUsage() is not implemented, and
 * hosted workers are isolates sharing one process), so the CPU is estimated from what the work
 * consists of: rounds taken, access levels synced and their zones, SALTO's requests and replies by
 * size, IDs checked and compared. The costs were measured in the local edge runtime, which reads
 * each worker's CPU from /proc (tests/sync/sync-within-limits.test.ts), and are rounded up.
 *
 * One budget per worker, shared by everything it runs: each pass is granted PASS_CPU_MS from the
 * moment it starts, and the ID checks beside it spend from the same grant. A grant replaces the one
 * before (what a pass left unspent is not carried over), so a retired worker spends at most two
 * grants after its retirement, plus the one step (an access level, a building's ID checks) each may
 * start just before its grant runs out.
 */

/** Estimated milliseconds of CPU for each part of a sync invocation's work. */
export interface CpuCosts {
  /** A sync round (fold and lease scan) or a building task's look for due work: one database call and its reply. */
  round: number;
  /** An access level synced (or failed): its database calls, what the engine computes for it, its outcome recorded. */
  accessLevel: number;
  /** Each zone window the bookings ask for, and each zone this project wrote that none asks for any more, of an access level synced. */
  zone: number;
  /** A SALTO request sent and its reply read, whatever their size. */
  exchange: number;
  /** Each 1,000 characters of a SALTO request and its reply: built, parsed, validated, kept for the traffic log. */
  perThousandChars: number;
  /** A saved ID judged against SALTO's list and its answer recorded. */
  idCheck: number;
  /** One unknown ID compared with one ID SALTO lists (the closest IDs suggested). */
  idComparison: number;
}

/**
 * Measured in the local edge runtime on a 2-CPU machine under load (docs/decisions/0036): an access
 * level of twelve zones is charged about 10 ms where the workers spent 7 to 10 ms. A wake-up
 * request (about 1 ms) is not charged: requests reach a worker only before its retirement.
 */
export const SYNC_CPU_COSTS: Readonly<CpuCosts> = Object.freeze({
  round: 2,
  accessLevel: 3,
  zone: 0.5,
  exchange: 0.5,
  perThousandChars: 0.2,
  idCheck: 0.03,
  idComparison: 0.003,
});

/**
 * The estimated CPU a pass, and the ID checks beside it, may start work within (ms). After its
 * retirement at 1 s a worker spends at most two grants and the steps begun at their ends: 2 x 0.25 s
 * plus those steps keeps it near 1.5 s, under the 2 s at which it is killed.
 */
export const PASS_CPU_MS = 250;

/** A SALTO exchange as the client reports it (ShipExchange): the request and the reply as text. */
export interface MeteredExchange {
  readonly request: string;
  readonly reply?: string;
}

/** What a budget was charged for, counted (for logs, and to measure the costs against a worker's CPU). */
export interface CpuTally {
  rounds: number;
  accessLevels: number;
  zones: number;
  exchanges: number;
  chars: number;
  idChecks: number;
  idComparisons: number;
}

export class CpuBudget {
  #spent = 0;
  #limit: number;
  readonly tally: CpuTally = {
    rounds: 0,
    accessLevels: 0,
    zones: 0,
    exchanges: 0,
    chars: 0,
    idChecks: 0,
    idComparisons: 0,
  };

  constructor(
    /** What each grant allows (PASS_CPU_MS). */
    readonly grantMs: number = PASS_CPU_MS,
    readonly costs: Readonly<CpuCosts> = SYNC_CPU_COSTS,
  ) {
    this.#limit = grantMs;
  }

  /** A budget that never runs out (benchmarks' yardsticks, tools that run outside the edge runtime). */
  static unlimited(): CpuBudget {
    return new CpuBudget(Number.POSITIVE_INFINITY);
  }

  /** A pass starts: from now, it and whatever runs beside it may spend `grantMs` more. */
  grant(): void {
    this.#limit = this.#spent + this.grantMs;
  }

  /** The current grant is spent: start nothing new. */
  exhausted(): boolean {
    return this.#spent >= this.#limit;
  }

  /** Estimated CPU spent under this budget since it was made (ms). */
  get spentMs(): number {
    return this.#spent;
  }

  /** Estimated CPU spent within the current grant (ms). */
  get grantSpentMs(): number {
    return this.grantMs - (this.#limit - this.#spent);
  }

  charge(ms: number): void {
    this.#spent += ms;
  }

  round(): void {
    this.tally.rounds++;
    this.charge(this.costs.round);
  }

  /**
   * An access level taken, before it is read (charged at once, so that the tasks beside it see it);
   * its zones are charged once they are known (zones).
   */
  accessLevel(): void {
    this.tally.accessLevels++;
    this.charge(this.costs.accessLevel);
  }

  /** The zones of an access level about to be synced. */
  zones(zones: number): void {
    this.tally.zones += zones;
    this.charge(this.costs.zone * zones);
  }

  /** How many more access levels (without their zones) the current grant can start. */
  accessLevelsLeft(): number {
    return Math.max(0, Math.ceil((this.#limit - this.#spent) / this.costs.accessLevel));
  }

  exchange({ request, reply }: MeteredExchange): void {
    const chars = request.length + (reply?.length ?? 0);
    this.tally.exchanges++;
    this.tally.chars += chars;
    this.charge(this.costs.exchange + (this.costs.perThousandChars * chars) / 1000);
  }

  /** ID checks judged and recorded, and the comparisons made for the closest IDs of the unknown ones. */
  idChecks(checks: number, comparisons = 0): void {
    this.tally.idChecks += checks;
    this.tally.idComparisons += comparisons;
    this.charge(this.costs.idCheck * checks + this.costs.idComparison * comparisons);
  }
}
