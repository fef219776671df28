/**
 * The command line read with node's util.parseArgs (strict), after a first look at its tokens that turns
 * each mistake into a message naming the option and the fix ("Unknown option --buildng. Did you mean
 * --building?") instead of the parser's own wording.
 */
import { parseArgs } from 'node:util';
import { usageError } from './errors.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** What the value is, for help and messages: "<name or id>". */
  value?: string;
  description: string;
}
export type OptionSpecs = Record<string, OptionSpec>;

export interface CommandLine {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Edit distance (insertions, deletions, substitutions, swaps of neighbours): how far a typo is. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const previous = d[i - 1]!;
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** The closest of `candidates` to `typed`, when close enough to be what was meant. */
export function closest(typed: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = typed.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(typed.length / 3)));
  if (best !== undefined && bestDistance <= allowed) return best;
  // A prefix (--build for --building) is also what was meant, when only one option starts so.
  const prefixed = [...candidates].filter((c) => c.toLowerCase().startsWith(lower));
  return lower.length >= 2 && prefixed.length === 1 ? prefixed[0] : undefined;
}

function flag(name: string, spec: OptionSpec | undefined): string {
  return spec?.short && name.length === 1 ? `-${name}` : `--${name}`;
}

/**
 * Reads `args` against `options` (the command's and the global ones). `command` names the command in
 * messages ("status"), `helpHint` is the sentence that says where the options are listed, and
 * `elsewhere` says which other command an option belongs to (for "--booking is an option of resync").
 */
export function readCommandLine(
  args: string[],
  options: OptionSpecs,
  context: { command: string; helpHint: string; elsewhere?: (name: string) => string | undefined },
): CommandLine {
  const parserOptions = Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [
      name,
      spec.short ? { type: spec.type, short: spec.short } : { type: spec.type },
    ]),
  );
  // First look, not strict: every token, known or not, to say what is wrong with it.
  const { tokens } = parseArgs({ args, options: parserOptions, strict: false, allowPositionals: true, tokens: true });
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = options[token.name];
    if (!spec) {
      const typed = token.rawName;
      const guess = closest(
        token.name,
        Object.keys(options).filter((n) => n.length > 1),
      );
      const owner = context.elsewhere?.(token.name);
      const hint = guess
        ? ` Did you mean --${guess}?`
        : owner
          ? ` ${typed} is an option of ${owner}, not of ${context.command}.`
          : '';
      throw usageError('unknown_option', `Unknown option ${typed}.${hint} ${context.helpHint}`);
    }
    const shown = flag(token.name, spec);
    if (seen.has(token.name)) {
      throw usageError('repeated_option', `${shown} is given twice: give it once. ${context.helpHint}`);
    }
    seen.add(token.name);
    if (spec.type === 'boolean' && token.inlineValue) {
      throw usageError('unexpected_value', `${shown} takes no value (got "${token.value}"): write just ${shown}.`);
    }
    if (spec.type === 'string') {
      // Not strict, the parser takes the next word even when it is another option (`--building --json`).
      const missing =
        token.value === undefined ||
        (!token.inlineValue && token.value.startsWith('-') && token.value.length > 1) ||
        token.value.trim() === '';
      if (missing) {
        throw usageError(
          'missing_value',
          `${shown} needs a value: ${shown} ${spec.value ?? '<value>'}. ${context.helpHint}`,
        );
      }
    }
  }
  // The tokens are sound: now the strict parse, whose result is used.
  try {
    const { values, positionals } = parseArgs({ args, options: parserOptions, strict: true, allowPositionals: true });
    return { values: values as CommandLine['values'], positionals };
  } catch (error) {
    // Not expected after the first look; still no parser wording without the way out.
    throw usageError('usage', `${(error as Error).message.split('. ')[0]}. ${context.helpHint}`);
  }
}

/** The command (the first word not an option), read leniently before the command's own options are known. */
export function firstWord(args: string[], options: OptionSpecs): { word: string | undefined; flags: Set<string> } {
  const parserOptions = Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [
      name,
      spec.short ? { type: spec.type, short: spec.short } : { type: spec.type },
    ]),
  );
  const { tokens } = parseArgs({ args, options: parserOptions, strict: false, allowPositionals: true, tokens: true });
  const flags = new Set<string>();
  let word: string | undefined;
  for (const token of tokens) {
    if (token.kind === 'option') flags.add(token.name);
    else if (token.kind === 'positional' && word === undefined) word = token.value;
  }
  return { word, flags };
}
