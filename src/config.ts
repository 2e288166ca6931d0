/**
 * Server configuration: one table of options. Each option names its flag,
 * env var, default, help text and zod type in one place; ServerConfig is
 * derived from the table, and every other options type in the server is a
 * Pick of it. Flags win over env vars; one zod schema validates the lot at
 * boot, so a bad value fails start-up with a one-line reason instead of
 * misbehaving later.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { MODEL_DTYPES } from "./model/dtype-files.ts";
import { isHubRepoId } from "./model/model-source.ts";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** The project's own default model, found from this file so it works from src/ and dist/ alike. */
const DEFAULT_MODEL_PATH = fileURLToPath(new URL("../models/tiny-chat", import.meta.url));
const MIB = 1024 * 1024;

export { MODEL_DTYPES, type ModelDtype } from "./model/dtype-files.ts";

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^[+]?\d+$/, { error: `expected an integer between ${min} and ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `expected an integer between ${min} and ${max}` });

const optionalInteger = (min: number, max: number) =>
  z.union([z.literal("none"), integer(min, max)], { error: `expected "none" or an integer between ${min} and ${max}` }).transform((v) => (v === "none" ? null : v));

const list = z.string().transform((s) => s.split(",").map((item) => item.trim()).filter((item) => item.length > 0));

const origin = z.string().refine((o) => /^https?:\/\/[^/\s*]+$/.test(o), {
  error: "expected origins like https://app.example.com (scheme and host, no path, no *)",
});

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "redis:" || url.protocol === "rediss:") && url.hostname !== "" && /^(\/\d*)?$/.test(url.pathname);
  } catch {
    return false;
  }
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** How a switch's env var may say on or off; a switch's flag itself arrives as "true" or "false". */
const SWITCH_WORDS: Record<string, boolean> = { true: true, false: false, "1": true, "0": false, yes: true, no: false, on: true, off: false };
const switchValue = z
  .string()
  .trim()
  .transform((v) => v.toLowerCase())
  .refine((v) => Object.hasOwn(SWITCH_WORDS, v), { error: "expected true or false (or 1/0, yes/no, on/off)" })
  .transform((v) => SWITCH_WORDS[v]);

interface OptionSpec<Schema extends z.ZodType> {
  flag: string;
  env: string;
  /** The raw default, parsed by `schema` like a flag's value; null only where the schema allows it. */
  default: string | null;
  /** How --help shows the default, when the raw value would mislead (a computed path, null). */
  shownDefault?: string;
  help: string;
  schema: Schema;
  /** Repeatable flag whose values are joined with commas. */
  multiple?: boolean;
  /** A switch: `--flag` turns it on and `--no-flag` off, with no value; the env var takes true/false. */
  switch?: boolean;
  /** The value may hold a credential: an error names the option but never shows the value. */
  secret?: boolean;
}

const option = <Schema extends z.ZodType>(spec: OptionSpec<Schema>): OptionSpec<Schema> => spec;

/*
 * Timeouts: headers must arrive in 10 s (no legitimate client needs longer;
 * slowloris needs it to be short). The whole request in 60 s lets a 16 MiB
 * body through at ~280 KB/s while bounding slow-body attacks; it does not
 * limit how long a response streams. Keep-alive 5 s is Node's default and
 * shorter than common proxy idle timeouts, which avoids reuse races.
 */
/** Every option, keyed by its ServerConfig field. Order is the --help order. */
const OPTIONS = {
  modelPath: option({
    flag: "model",
    env: "MODEL_PATH",
    default: DEFAULT_MODEL_PATH,
    shownDefault: "models/tiny-chat",
    help: "model folder (relative to the current directory), or a Hub repo id (owner/name) kept in --models-dir",
    // An existing folder wins over a Hub id of the same spelling; an id stays as given (model/model-source.ts).
    schema: z
      .string()
      .min(1, { error: "expected a path or owner/name" })
      .transform((p) => (isAbsolute(p) || existsSync(p) || !isHubRepoId(p) ? resolve(p) : p)),
  }),
  modelsDir: option({
    flag: "models-dir",
    env: "MODELS_DIR",
    default: join(homedir(), ".cache", "onnx-openai-server", "models"),
    shownDefault: "~/.cache/onnx-openai-server/models",
    help: "where Hub models (--model owner/name, npm run pull) are kept",
    schema: z.string().min(1, { error: "expected a path" }).transform((p) => resolve(p)),
  }),
  revision: option({
    flag: "revision",
    env: "MODEL_REVISION",
    default: "main",
    help: "Hub revision (branch, tag or commit) of --model owner/name",
    schema: z.string().trim().min(1, { error: "expected a branch, tag or commit" }),
  }),
  pull: option({
    flag: "pull",
    env: "PULL",
    default: "missing",
    help: "--model owner/name not yet in --models-dir: missing = pull it first, never = fail",
    schema: z.enum(["missing", "never"], { error: "expected missing or never" }),
  }),
  modelName: option({
    flag: "model-name",
    env: "MODEL_NAME",
    default: null,
    shownDefault: "folder name",
    help: "model id served in /v1/models and required in requests",
    schema: z.string().trim().min(1, { error: "expected a non-empty name" }).nullable(),
  }),
  dtype: option({
    flag: "dtype",
    env: "DTYPE",
    default: "auto",
    help:
      "which model file: fp32 (onnx/model.onnx), q8 (model_quantized.onnx), fp32-fused|fp16|int8|uint8|q4|q4f16|bnb4 (model_<dtype>.onnx); auto: model.onnx, else the fastest the folder has for --device",
    schema: z.enum(MODEL_DTYPES, { error: `expected ${MODEL_DTYPES.join(", ")}` }),
  }),
  host: option({
    flag: "host",
    env: "HOST",
    default: "127.0.0.1",
    help: "address to listen on",
    schema: z.string().trim().min(1, { error: "expected a host name or address" }),
  }),
  port: option({ flag: "port", env: "PORT", default: "8000", help: "port to listen on (0: any free port)", schema: integer(0, 65535) }),
  device: option({
    flag: "device",
    env: "DEVICE",
    default: "cpu",
    help: "execution provider: cpu or cuda",
    schema: z.enum(["cpu", "cuda"], { error: "expected cpu or cuda" }),
  }),
  workers: option({ flag: "workers", env: "WORKERS", default: "1", help: "worker threads, each with its own session", schema: integer(1, 256) }),
  threads: option({
    flag: "threads",
    env: "THREADS",
    default: "auto",
    help: "intra-op threads per worker: auto = 1 for models under 64 MB, else cpus / workers",
    schema: z
      .string()
      .trim()
      .refine((v) => v === "auto" || (/^[+]?\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1024), {
        error: 'expected "auto" or an integer between 1 and 1024',
      })
      .transform((v) => (v === "auto" ? ("auto" as const) : Number(v))),
  }),
  maxBatchSize: option({ flag: "max-batch-size", env: "MAX_BATCH_SIZE", default: "16", help: "rows per worker step", schema: integer(1, 4096) }),
  maxTokensInFlight: option({
    flag: "max-tokens-in-flight",
    env: "MAX_TOKENS_IN_FLIGHT",
    default: "65536",
    help: "KV-cache tokens (prompt + max tokens of every row) per worker; admission waits above",
    schema: integer(16, 100_000_000),
  }),
  ortSpinning: option({
    flag: "ort-spinning",
    env: "ORT_SPINNING",
    default: "auto",
    help: "ONNX Runtime thread spinning: auto (large models only)|on|off",
    schema: z.enum(["auto", "on", "off"], { error: "expected auto, on or off" }),
  }),
  prefillChunk: option({
    flag: "prefill-chunk",
    env: "PREFILL_CHUNK",
    default: "512",
    help: "prompt tokens prefilled per step, so long prompts do not stall decoding rows",
    schema: integer(1, 1_000_000),
  }),
  maxQueue: option({ flag: "max-queue", env: "MAX_QUEUE", default: "256", help: "waiting requests before 429", schema: integer(0, 1_000_000) }),
  maxN: option({ flag: "max-n", env: "MAX_N", default: "8", help: "largest accepted n", schema: integer(1, 128) }),
  maxStop: option({ flag: "max-stop", env: "MAX_STOP", default: "4", help: "most stop strings per request", schema: integer(0, 64) }),
  maxBodyBytes: option({
    flag: "max-body-bytes",
    env: "MAX_BODY_BYTES",
    default: String(16 * MIB),
    help: "request body limit (413 above)",
    schema: integer(1024, 1024 * MIB),
  }),
  toolCallFormat: option({
    flag: "tool-call-format",
    env: "TOOL_CALL_FORMAT",
    default: "auto",
    help: "how the model writes tool calls: auto (read from its chat template), hermes, llama3-json, mistral or fallback",
    schema: z.enum(["auto", "hermes", "llama3-json", "mistral", "fallback"], { error: "expected auto, hermes, llama3-json, mistral or fallback" }),
  }),
  maxSchemaBytes: option({
    flag: "max-schema-bytes",
    env: "MAX_SCHEMA_BYTES",
    default: "65536",
    help: "largest JSON Schema in response_format or in one tool's parameters, as compact JSON (400 above)",
    schema: integer(64, 16 * MIB),
  }),
  maxPromptTokens: option({
    flag: "max-prompt-tokens",
    env: "MAX_PROMPT_TOKENS",
    default: "none",
    help: "prompt token limit (none: the context)",
    schema: optionalInteger(1, 100_000_000),
  }),
  maxTokensCap: option({
    flag: "max-tokens-cap",
    env: "MAX_TOKENS_CAP",
    default: "none",
    help: "upper bound for max_tokens (none: the context)",
    schema: optionalInteger(1, 100_000_000),
  }),
  playground: option({
    flag: "playground",
    env: "PLAYGROUND",
    default: "true",
    shownDefault: "on",
    help: "serve the browser playground at / (--no-playground: / is a 404 like any unknown route)",
    schema: switchValue,
    switch: true,
  }),
  apiKeys: option({
    flag: "api-key",
    env: "API_KEYS",
    default: "",
    shownDefault: "none",
    help: "accepted bearer keys; repeat or comma-separate (prefer the env var: shells and npm echo flags)",
    schema: list,
    multiple: true,
  }),
  corsOrigins: option({
    flag: "cors-origin",
    env: "CORS_ORIGINS",
    default: "",
    shownDefault: "none",
    help: "allowed browser origins; repeat or comma-separate",
    schema: list.pipe(z.array(origin)),
    multiple: true,
  }),
  logLevel: option({
    flag: "log-level",
    env: "LOG_LEVEL",
    default: "info",
    help: LOG_LEVELS.join("|"),
    schema: z.enum(LOG_LEVELS, { error: `expected ${LOG_LEVELS.slice(0, -1).join(", ")} or silent` }),
  }),
  logPrompts: option({
    flag: "log-prompts",
    env: "LOG_PROMPTS",
    default: "false",
    shownDefault: "off",
    help: "write each request's prompt or messages into its log line (off: never; they may hold personal data)",
    schema: switchValue,
    switch: true,
  }),
  shutdownGraceMs: option({
    flag: "shutdown-grace-ms",
    env: "SHUTDOWN_GRACE_MS",
    default: "10000",
    help: "time in-flight work gets on SIGTERM",
    schema: integer(0, 3_600_000),
  }),
  requestTimeoutMs: option({
    flag: "request-timeout-ms",
    env: "REQUEST_TIMEOUT_MS",
    default: "60000",
    help: "time to receive a whole request",
    schema: integer(1000, 3_600_000),
  }),
  headersTimeoutMs: option({
    flag: "headers-timeout-ms",
    env: "HEADERS_TIMEOUT_MS",
    default: "10000",
    help: "time to receive request headers (at most the request timeout)",
    schema: integer(1000, 3_600_000),
  }),
  keepAliveTimeoutMs: option({
    flag: "keep-alive-timeout-ms",
    env: "KEEP_ALIVE_TIMEOUT_MS",
    default: "5000",
    help: "idle keep-alive socket timeout",
    schema: integer(1, 3_600_000),
  }),
  redisUrl: option({
    flag: "redis-url",
    env: "REDIS_URL",
    default: null,
    shownDefault: "none: one replica",
    help: "Redis shared by the replicas (redis://[user:password@]host:port[/db]); the stop endpoint then works from any replica",
    schema: z
      .string()
      .trim()
      .refine(isRedisUrl, { error: "expected redis://host:port or rediss://host:port (optionally user:password@ and /db)" })
      .nullable(),
    secret: true,
  }),
  sseHeartbeatMs: option({
    flag: "sse-heartbeat-ms",
    env: "SSE_HEARTBEAT_MS",
    default: "15000",
    help: "write a ': keep-alive' comment on a stream silent this long (queued, long prefill) so gateways keep it open; 0 = off",
    schema: integer(0, 3_600_000),
  }),
};

type Options = typeof OPTIONS;
export type OptionKey = keyof Options;

/** The validated configuration; field docs are the options' help texts. */
export type ServerConfig = { [K in OptionKey]: z.output<Options[K]["schema"]> };

export type Device = ServerConfig["device"];
export type ThreadSetting = ServerConfig["threads"];
export type SpinningSetting = ServerConfig["ortSpinning"];
export type LogLevel = ServerConfig["logLevel"];

export type ParsedCommandLine = { kind: "help"; text: string } | { kind: "config"; config: ServerConfig };

const specs = (): Array<[OptionKey, OptionSpec<z.ZodType>]> => Object.entries(OPTIONS) as Array<[OptionKey, OptionSpec<z.ZodType>]>;

const configSchema = z
  .object(Object.fromEntries(specs().map(([key, spec]) => [key, spec.schema])) as { [K in OptionKey]: Options[K]["schema"] })
  .refine((c) => c.headersTimeoutMs <= c.requestTimeoutMs, {
    error: "must not exceed the request timeout",
    path: ["headersTimeoutMs"],
  });

/** Every option's env var: what a deployment manifest may set (the deploy/ test checks them against this). */
export const optionEnvVars = (): string[] => specs().map(([, o]) => o.env);

export function helpText(): string {
  const rows = specs().map(([, o]) => {
    const flag = o.switch === true ? `  --[no-]${o.flag}` : `  --${o.flag} <value>`;
    return `${flag.padEnd(32)}${o.help} [env ${o.env}; default ${o.shownDefault ?? o.default}]`;
  });
  return ["Usage: onnx-openai-server [options]", "", "Options (flags win over env vars):", ...rows, `  ${"--help".padEnd(30)}show this text`].join("\n");
}

const oneLine = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const parseOptions: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [, o] of specs()) {
    parseOptions[o.flag] = o.switch === true ? { type: "boolean" } : { type: "string", multiple: o.multiple === true };
  }

  let parsed: ReturnType<typeof parseArgs>;
  try {
    // allowNegative gives every switch its --no-<flag> form (the last of the two on the command line wins).
    parsed = parseArgs({ args: argv, options: parseOptions, strict: true, allowPositionals: false, allowNegative: true });
  } catch (err) {
    // parseArgs messages are multi-line and suggest "--" tricks; keep the first line.
    throw new ConfigError((err as Error).message.split("\n")[0]);
  }
  if (parsed.values.help === true) return { kind: "help", text: helpText() };

  const raw = {} as Record<OptionKey, string | null>;
  const source = {} as Record<OptionKey, string>;
  for (const [key, spec] of specs()) {
    const flagValue = parsed.values[spec.flag];
    const envValue = env[spec.env];
    raw[key] = spec.default;
    source[key] = `--${spec.flag}`;
    if (flagValue !== undefined) {
      raw[key] = Array.isArray(flagValue) ? flagValue.join(",") : String(flagValue);
    } else if (envValue !== undefined && envValue !== "") {
      raw[key] = envValue;
      source[key] = spec.env;
    }
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue.path[0] as OptionKey;
    const shown = raw[key] === null || OPTIONS[key].secret === true ? "" : `, got ${oneLine(raw[key])}`;
    throw new ConfigError(`${source[key] ?? String(key)}: ${issue.message}${shown}`);
  }
  return { kind: "config", config: result.data as ServerConfig };
}

/**
 * One option as parseConfig resolves it (the flag, else the env var, else
 * the default; the same schema and messages): for subcommands such as
 * `pull` that share some of the server's options, so both read the same
 * MODELS_DIR, DTYPE, DEVICE and MODEL_REVISION the same way.
 */
export function resolveOption<K extends OptionKey>(key: K, flagValue: string | undefined, env: NodeJS.ProcessEnv): ServerConfig[K] {
  const spec: OptionSpec<z.ZodType> = OPTIONS[key];
  const envValue = env[spec.env];
  const fromEnv = flagValue === undefined && envValue !== undefined && envValue !== "";
  const raw = flagValue ?? (fromEnv ? envValue : spec.default);
  const result = spec.schema.safeParse(raw);
  if (!result.success) {
    const shown = raw === null || raw === undefined || spec.secret === true ? "" : `, got ${oneLine(raw)}`;
    throw new ConfigError(`${fromEnv ? spec.env : `--${spec.flag}`}: ${result.error.issues[0].message}${shown}`);
  }
  return result.data as ServerConfig[K];
}

/** Every option at its default, with `overrides` on top: for embedding the server and for tests. */
export function defaultConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const parsed = parseConfig([], {});
  if (parsed.kind !== "config") throw new Error("no flags cannot mean --help");
  return { ...parsed.config, ...overrides };
}

/** The model id to serve: the configured name, else the folder's basename. */
export function servedModelName(config: Pick<ServerConfig, "modelName" | "modelPath">): string {
  // A Hub model is served under its repo id, as the Hub and other servers name it.
  return config.modelName ?? (isHubRepoId(config.modelPath) ? config.modelPath : basename(config.modelPath));
}
