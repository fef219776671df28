// The most any edge function of this project reads of a request body. Callers send tiny bodies: the
// database's wake-ups a JSON object such as {"reason": "changed"}, operators a list of building IDs, an
// email's action link a one-field form. A larger body is refused with 413 before it is read: a body
// declaring a larger Content-Length at once, a chunked one (no length) as soon as more than the cap has
// arrived, so a function never holds more than the cap of any request.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** 8 KB: about 200 building IDs in one salto-cleanup call, and far more than a form's token. */
export const MAX_REQUEST_BODY_BYTES = 8 * 1024;

/** Hono middleware: 413 with a short JSON error for a body larger than `maxBytes`, unread. */
export function limitRequestBody(maxBytes = MAX_REQUEST_BODY_BYTES): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      c.json(
        {
          error: `The request body is larger than ${maxBytes / 1024} KB, the most this function reads: send a small JSON object (or, for an action link, the form with its token only).`,
        },
        413,
      ),
  });
}
