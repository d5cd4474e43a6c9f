import type * as z from 'zod/mini';
import { errorResponseSchema } from '../shared/api-types.js';

/** An API answer other than 200; `status` 503 means ClickHouse is unreachable. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** GETs `path` and checks the JSON against `schema`. */
export async function getJson<S extends z.ZodMiniType>(path: string, schema: S): Promise<z.infer<S>> {
  let response: Response;
  try {
    response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'the server cannot be reached');
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = errorResponseSchema.safeParse(body);
    throw new ApiError(response.status, error.success ? error.data.error : `HTTP ${response.status}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError(response.status, `unexpected answer from ${path}`);
  return parsed.data;
}
