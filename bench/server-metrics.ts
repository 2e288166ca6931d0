/** Reads the release-latency summaries from the server's GET /metrics (Prometheus text). */

export interface ReleaseLatency {
  /** Releases timed since the server started. */
  count: number;
  p50Ms: number;
  p99Ms: number;
  p50Steps: number;
  p99Steps: number;
}

export async function fetchReleaseLatency(baseUrl: string): Promise<ReleaseLatency> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  const text = await res.text();
  const sample = (name: string, quantile?: string): number => {
    const head = quantile === undefined ? name : `${name}{quantile="${quantile}"}`;
    const line = text.split("\n").find((l) => l.startsWith(`${head} `));
    if (line === undefined) throw new Error(`GET /metrics has no ${head}`);
    return Number(line.slice(head.length + 1));
  };
  return {
    count: sample("onnx_server_release_steps_count"),
    p50Ms: sample("onnx_server_release_seconds", "0.5") * 1000,
    p99Ms: sample("onnx_server_release_seconds", "0.99") * 1000,
    p50Steps: sample("onnx_server_release_steps", "0.5"),
    p99Steps: sample("onnx_server_release_steps", "0.99"),
  };
}
