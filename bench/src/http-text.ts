/** The body of a GET on loopback (metrics endpoints), or undefined if it did not answer in time. */
export async function fetchText(url: string, timeoutMs = 2000): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}
