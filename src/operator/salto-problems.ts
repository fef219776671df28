/**
 * Why a building's SALTO server did not answer, and the fix that goes with that cause: a host name
 * that does not resolve is fixed in integration.salto_servers.host, not by changing the SHIP key.
 */
import { isSaltoError } from '../shared/salto/index.ts';

export type SaltoProblemCause =
  /** The host name does not resolve (ENOTFOUND, EAI_AGAIN). */
  | 'dns'
  /** Nothing accepts connections on the port (ECONNREFUSED). */
  | 'refused'
  /** No connection or no reply within the timeout. */
  | 'timeout'
  /** The TLS handshake failed (certificate, protocol). */
  | 'tls'
  /** The connection broke or could not be made for another reason. */
  | 'connection'
  /** SALTO refused the credentials (HTTP 401). */
  | 'auth'
  /** The Vault secret named for the building's server is missing or empty. */
  | 'credential'
  /** SALTO answered, but not with what SHIP needs (an HTTP status, a SHIP error, an unreadable reply). */
  | 'refusal'
  /** The integration.salto_servers row cannot be used as it is (e.g. credentials over STP). */
  | 'configuration';

export interface SaltoProblem {
  cause: SaltoProblemCause;
  /** True when the server could not be reached at all (exit code 3), false when it answered but refused. */
  unreachable: boolean;
  /** What went wrong, in one line (the error as the client reports it). */
  detail: string;
  /** What to do, naming the setting (integration.salto_servers column or Vault secret) that fixes it. */
  fix: string;
}

/** The building's integration.salto_servers row, as the fixes name it. */
export interface SaltoServerRow {
  transport: string;
  host: string;
  port: number;
  credentialSecretName: string | null;
  authMode: string;
}

const TLS_CODES =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;

/** The codes (ENOTFOUND, ECONNREFUSED, ...) and error names anywhere in the error's chain of causes. */
function codesOf(error: unknown): { codes: string[]; names: string[]; text: string } {
  const codes: string[] = [];
  const names: string[] = [];
  const texts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    const e = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof e.code === 'string') codes.push(e.code);
    if (typeof e.name === 'string') names.push(e.name);
    if (typeof e.message === 'string') texts.push(e.message);
    // An AggregateError (happy eyeballs: IPv4 and IPv6 both refused) carries its causes in `errors`.
    if (Array.isArray(e.errors)) for (const inner of e.errors) codes.push(...codesOf(inner).codes);
    current = e.cause;
  }
  return { codes, names, text: texts.join(' ') };
}

function transportName(server: SaltoServerRow): string {
  return server.transport === 'stp' ? 'TCP (STP)' : 'HTTP(S)';
}

/** The cause and fix of a failed call to the building's SALTO server. */
export function saltoProblem(error: unknown, server: SaltoServerRow): SaltoProblem {
  const detail = error instanceof Error ? error.message : String(error);
  const { codes, names, text } = codesOf(error);
  const has = (...wanted: string[]) => wanted.some((w) => codes.includes(w) || text.includes(w));
  const target = `${server.host}:${server.port}`;
  const secret = server.credentialSecretName
    ? `the Vault secret "${server.credentialSecretName}" (integration.salto_servers.credential_secret_name)`
    : 'the Vault secret named in integration.salto_servers.credential_secret_name';

  if (isSaltoError(error) && error.reason === 'http' && error.httpStatus === 401) {
    return {
      cause: 'auth',
      unreachable: false,
      detail,
      fix: `SALTO refused the credentials: make ${secret} hold the SHIP key set in ProAccess SPACE (System > General options > SHIP)${server.authMode === 'basic' ? ', and integration.salto_servers.basic_user the user' : ''}.`,
    };
  }
  if (has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL')) {
    return {
      cause: 'dns',
      unreachable: true,
      detail,
      fix: `The host name "${server.host}" does not resolve: check integration.salto_servers.host (its spelling, or use the server's IP address) and that this machine's DNS knows it.`,
    };
  }
  if (has('ECONNREFUSED')) {
    return {
      cause: 'refused',
      unreachable: true,
      detail,
      fix: `Nothing accepts connections on ${target}: check integration.salto_servers.port and transport (${server.transport}), that SALTO ProAccess SPACE is running, and that SHIP over ${transportName(server)} is enabled on it (System > General options > SHIP).`,
    };
  }
  if (
    has('ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT') ||
    names.includes('TimeoutError') ||
    /within \d+ ms/.test(detail)
  ) {
    return {
      cause: 'timeout',
      unreachable: true,
      detail,
      fix: `No answer from ${target} in time: check the network path to the building (port forwarding of port ${server.port}, the firewall letting this address through), integration.salto_servers.port, and connect_timeout_ms / reply_timeout_ms if the server is slow.`,
    };
  }
  if (codes.some((c) => TLS_CODES.test(c)) || /certificate|TLS|SSL/i.test(text)) {
    return {
      cause: 'tls',
      unreachable: true,
      detail,
      fix: `The TLS connection to ${target} failed: check that the server's certificate is valid for "${server.host}", or that integration.salto_servers.transport (${server.transport}) is what the server speaks on port ${server.port}.`,
    };
  }
  if (isSaltoError(error) && error.reason === 'transport') {
    return {
      cause: 'connection',
      unreachable: true,
      detail,
      fix: `The connection to ${target} broke: check that ${target} is SALTO's SHIP port for ${transportName(server)} (integration.salto_servers.port and transport) and the network path to it.`,
    };
  }
  if (isSaltoError(error) && error.reason === 'http' && error.httpStatus === 501) {
    return {
      cause: 'refusal',
      unreachable: false,
      detail,
      fix: 'SHIP over HTTP is switched off on the SALTO server: enable it in ProAccess SPACE (System > General options > SHIP), or set integration.salto_servers.transport to stp and port to its TCP port.',
    };
  }
  if (isSaltoError(error)) {
    return {
      cause: 'refusal',
      unreachable: false,
      detail,
      fix: `SALTO answered ${target} but not as SHIP expects: check that integration.salto_servers.host and port point at SALTO ProAccess SPACE's SHIP ${transportName(server)} endpoint, and its SHIP licence.`,
    };
  }
  // Not a SaltoError: the endpoint itself could not be used (the client checks it before any call).
  return {
    cause: 'configuration',
    unreachable: false,
    detail,
    fix: 'Correct the building\'s integration.salto_servers row (transport, host, port, auth_mode); see README "Configuring a building\'s SALTO server".',
  };
}

/** The problem when the building's server row names a Vault secret that is missing or empty. */
export function missingCredential(server: SaltoServerRow): SaltoProblem {
  return {
    cause: 'credential',
    unreachable: false,
    detail: `the Vault secret "${server.credentialSecretName ?? ''}" is missing or empty`,
    fix: `Store the SHIP key in Vault under that name: select vault.create_secret('<SHIP key>', '${server.credentialSecretName ?? '<name>'}'); or correct integration.salto_servers.credential_secret_name.`,
  };
}
