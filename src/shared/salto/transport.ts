/** A way to carry one SHIP request and bring back its reply. */
export interface ShipTransport {
  /**
   * Sends one XML request and resolves with the XML reply. Rejects only with SaltoError (cause
   * transport, http or malformed). Never retries.
   */
  exchange(requestXml: string, signal?: AbortSignal): Promise<string>;
  /** Releases any open connection. Safe to call more than once. */
  close(): Promise<void>;
}

/** Aborts after `ms`, or when `outer` aborts, whichever is first. */
export function deadline(ms: number, outer?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return outer ? AbortSignal.any([outer, timeout]) : timeout;
}

/** True when the abort came from a timeout rather than from the caller. */
export function isTimeout(signal: AbortSignal): boolean {
  const reason: unknown = signal.reason;
  return typeof reason === 'object' && reason !== null && (reason as { name?: string }).name === 'TimeoutError';
}

/** Rejects when `signal` aborts; otherwise settles like `promise`. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
