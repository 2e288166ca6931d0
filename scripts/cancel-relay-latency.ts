/**
 * How long the stop endpoint takes across replicas: two server processes
 * sharing a redis-server on loopback (the test helpers start them), N
 * streams on replica a, each cancelled on replica b (relayed through Redis)
 * and, for comparison, N cancelled on replica a itself. Prints p50/p99 of:
 * the cancel's HTTP round trip at the client, the relay as replica b timed
 * it (its "cancel relayed" log line), and the cancel's send to the stream's
 * last chunk at the client.
 *
 *   npx tsx scripts/cancel-relay-latency.ts [N=100]
 */
import { eosBan, tinyChat } from "../test/support/fixtures.ts";
import { postJson, readSse } from "../test/support/live-server.ts";
import { redisServer } from "../test/support/redis-server.ts";
import { startReplica, type Replica } from "../test/support/replicas.ts";

const count = Number(process.argv[2] ?? 100);
const body = {
  model: "tiny-chat",
  messages: [{ role: "user", content: "What is 123 + 456?" }],
  max_tokens: 450,
  temperature: 0,
  logit_bias: eosBan(tinyChat),
  stream: true,
};

interface Sample {
  roundTripMs: number;
  stopMs: number;
}

/** One stream on `owner`, cancelled through `via` as soon as its first chunk is in. */
async function cancelOnce(owner: Replica, via: Replica): Promise<Sample & { id: string }> {
  const res = await postJson(`${owner.url}/v1/chat/completions`, body);
  let sentAt = 0;
  let roundTripMs = 0;
  let id = "";
  await readSse(res, async (event, index) => {
    if (index !== 0) return;
    id = event.json!.id as string;
    sentAt = performance.now();
    const answer = await postJson(`${via.url}/v1/chat/completions/${id}/cancel`, {});
    roundTripMs = performance.now() - sentAt;
    const status = ((await answer.json()) as { status?: string }).status;
    if (status !== "cancelled") throw new Error(`cancel of ${id} through ${via.url}: ${status}`);
  });
  return { id, roundTripMs, stopMs: performance.now() - sentAt };
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};
const line = (label: string, values: number[]): string =>
  `${label.padEnd(52)} p50 ${quantile(values, 0.5).toFixed(2).padStart(7)} ms   p99 ${quantile(values, 0.99).toFixed(2).padStart(7)} ms   max ${Math.max(...values).toFixed(2).padStart(7)} ms`;

const redis = await redisServer();
await redis.start();
const args = ["--model", tinyChat, "--threads", "1"];
const [a, b] = await Promise.all([startReplica(args, { REDIS_URL: redis.url }), startReplica(args, { REDIS_URL: redis.url })]);
try {
  // Warm-up: the first requests pay for lazy initialisation on both sides.
  for (let i = 0; i < 5; i++) await cancelOnce(a, b);
  const relayed: Array<Sample & { id: string }> = [];
  for (let i = 0; i < count; i++) relayed.push(await cancelOnce(a, b));
  const local: Sample[] = [];
  for (let i = 0; i < count; i++) local.push(await cancelOnce(a, a));

  const relayMs = new Map<string, number>();
  for (const text of b.logText().split("\n")) {
    if (!text.includes('"msg":"cancel relayed"')) continue;
    const entry = JSON.parse(text) as { target: string; relayMs: number };
    relayMs.set(entry.target, entry.relayMs);
  }
  const serverSide = relayed.map((s) => relayMs.get(s.id)).filter((ms): ms is number => ms !== undefined);
  if (serverSide.length !== count) throw new Error(`${serverSide.length} of ${count} relays logged by replica b`);

  console.log(`${count} cancels each, streams on replica a, loopback, redis-server ${redis.url}`);
  console.log(line("relayed (to b): cancel round trip at the client", relayed.map((s) => s.roundTripMs)));
  console.log(line("relayed (to b): relay as replica b timed it", serverSide));
  console.log(line("relayed (to b): cancel sent -> stream's last chunk", relayed.map((s) => s.stopMs)));
  console.log(line("local (to a): cancel round trip at the client", local.map((s) => s.roundTripMs)));
  console.log(line("local (to a): cancel sent -> stream's last chunk", local.map((s) => s.stopMs)));
} finally {
  await Promise.all([a.stop(), b.stop()]);
  await redis.kill();
}
