/**
 * Server configuration: one table of options, each reachable as a kebab-case
 * flag and an env var (flags win), validated by one zod schema at boot so a
 * bad value fails start-up with a one-line reason instead of misbehaving later.
 */
import { basename, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";

export interface ServerConfig {
  /** Absolute path of the model folder. */
  modelPath: string;
  /** Served model id; null means the model folder's basename. */
  modelName: string | null;
  host: string;
  port: number;
  device: "cpu" | "cuda";
  workers: number;
  /** Intra-op threads per worker; "auto": 1 for small models, else the cores divided among the workers (model-runner.ts). */
  threads: number | "auto";
  /** Rows per worker step. */
  maxBatchSize: number;
  /** Prompt + completion tokens a worker may hold in its KV cache at once; admission waits beyond it. */
  maxTokensInFlight: number;
  /** Prompt tokens prefilled per worker step, so long prompts do not stall decoding rows. */
  prefillChunk: number;
  /** ONNX Runtime pool threads spin between runs: "auto" spins for large models only (see model-runner.ts). */
  ortSpinning: "auto" | "on" | "off";
  /** Waiting requests before 429. */
  maxQueue: number;
  maxN: number;
  maxStop: number;
  maxBodyBytes: number;
  /** null: only the context length limits the prompt. */
  maxPromptTokens: number | null;
  /** Upper bound for max_tokens; null: the context length. */
  maxTokensCap: number | null;
  /** Empty: no authentication. */
  apiKeys: string[];
  /** Explicit CORS allowlist of origins; empty: no CORS headers at all. */
  corsOrigins: string[];
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  shutdownGraceMs: number;
  /** Whole request (headers + body) must arrive within this; bounds slow-body attacks. */
  requestTimeoutMs: number;
  /** Headers must arrive within this; bounds slowloris. */
  headersTimeoutMs: number;
  /** Idle keep-alive sockets are closed after this. */
  keepAliveTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export type ParsedCommandLine = { kind: "help"; text: string } | { kind: "config"; config: ServerConfig };

/** The project's own default model, found from this file so it works from src/ and dist/ alike. */
const DEFAULT_MODEL_PATH = fileURLToPath(new URL("../models/tiny-chat", import.meta.url));
const MIB = 1024 * 1024;

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^[+]?\d+$/, { error: `expected an integer between ${min} and ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `expected an integer between ${min} and ${max}` });

const optionalInteger = (min: number, max: number) =>
  z.union([z.literal("none"), integer(min, max)], { error: `expected "none" or an integer between ${min} and ${max}` })
    .transform((v) => (v === "none" ? null : v));

const list = z.string().transform((s) =>
  s
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

const origin = z.string().refine((o) => /^https?:\/\/[^/\s*]+$/.test(o), {
  error: "expected origins like https://app.example.com (scheme and host, no path, no *)",
});

interface OptionSpec {
  flag: string;
  env: string;
  /** Shown in --help; undefined for computed defaults described in `help`. */
  defaultText: string;
  help: string;
  /** Repeatable flag whose values are joined with commas. */
  multiple?: boolean;
}

/** Every option, keyed by its ServerConfig field. Order is the --help order. */
const OPTIONS = {
  modelPath: { flag: "model", env: "MODEL_PATH", defaultText: "models/tiny-chat", help: "model folder (relative to the current directory)" },
  modelName: { flag: "model-name", env: "MODEL_NAME", defaultText: "folder name", help: "model id served in /v1/models and required in requests" },
  host: { flag: "host", env: "HOST", defaultText: "127.0.0.1", help: "address to listen on" },
  port: { flag: "port", env: "PORT", defaultText: "8000", help: "port to listen on (0: any free port)" },
  device: { flag: "device", env: "DEVICE", defaultText: "cpu", help: "execution provider: cpu or cuda" },
  workers: { flag: "workers", env: "WORKERS", defaultText: "1", help: "worker threads, each with its own session" },
  threads: { flag: "threads", env: "THREADS", defaultText: "auto", help: "intra-op threads per worker: auto = 1 for models under 64 MB, else cpus / workers" },
  maxBatchSize: { flag: "max-batch-size", env: "MAX_BATCH_SIZE", defaultText: "16", help: "rows per worker step" },
  maxTokensInFlight: { flag: "max-tokens-in-flight", env: "MAX_TOKENS_IN_FLIGHT", defaultText: "65536", help: "KV-cache tokens per worker (admission waits above)" },
  ortSpinning: { flag: "ort-spinning", env: "ORT_SPINNING", defaultText: "auto", help: "ONNX Runtime thread spinning: auto|on|off" },
  prefillChunk: { flag: "prefill-chunk", env: "PREFILL_CHUNK", defaultText: "512", help: "prompt tokens prefilled per step" },
  maxQueue: { flag: "max-queue", env: "MAX_QUEUE", defaultText: "256", help: "waiting requests before 429" },
  maxN: { flag: "max-n", env: "MAX_N", defaultText: "8", help: "largest accepted n" },
  maxStop: { flag: "max-stop", env: "MAX_STOP", defaultText: "4", help: "most stop strings per request" },
  maxBodyBytes: { flag: "max-body-bytes", env: "MAX_BODY_BYTES", defaultText: String(16 * MIB), help: "request body limit (413 above)" },
  maxPromptTokens: { flag: "max-prompt-tokens", env: "MAX_PROMPT_TOKENS", defaultText: "none", help: "prompt token limit (none: the context)" },
  maxTokensCap: { flag: "max-tokens-cap", env: "MAX_TOKENS_CAP", defaultText: "none", help: "upper bound for max_tokens (none: the context)" },
  apiKeys: { flag: "api-key", env: "API_KEYS", defaultText: "none", help: "accepted bearer keys; repeat or comma-separate", multiple: true },
  corsOrigins: { flag: "cors-origin", env: "CORS_ORIGINS", defaultText: "none", help: "allowed browser origins; repeat or comma-separate", multiple: true },
  logLevel: { flag: "log-level", env: "LOG_LEVEL", defaultText: "info", help: "fatal|error|warn|info|debug|trace|silent" },
  shutdownGraceMs: { flag: "shutdown-grace-ms", env: "SHUTDOWN_GRACE_MS", defaultText: "10000", help: "time in-flight work gets on SIGTERM" },
  requestTimeoutMs: { flag: "request-timeout-ms", env: "REQUEST_TIMEOUT_MS", defaultText: "60000", help: "time to receive a whole request" },
  headersTimeoutMs: { flag: "headers-timeout-ms", env: "HEADERS_TIMEOUT_MS", defaultText: "10000", help: "time to receive request headers" },
  keepAliveTimeoutMs: { flag: "keep-alive-timeout-ms", env: "KEEP_ALIVE_TIMEOUT_MS", defaultText: "5000", help: "idle keep-alive socket timeout" },
} satisfies Record<keyof ServerConfig, OptionSpec>;

type OptionKey = keyof typeof OPTIONS;

/*
 * Timeouts: headers must arrive in 10 s (no legitimate client needs longer;
 * slowloris needs it to be short). The whole request in 60 s lets a 16 MiB
 * body through at ~280 KB/s while bounding slow-body attacks; it does not
 * limit how long a response streams. Keep-alive 5 s is Node's default and
 * shorter than common proxy idle timeouts, which avoids reuse races.
 */
const configSchema = z
  .object({
    modelPath: z.string().min(1, { error: "expected a path" }).transform((p) => (isAbsolute(p) ? p : resolve(p))),
    modelName: z.string().trim().min(1, { error: "expected a non-empty name" }).nullable(),
    host: z.string().trim().min(1, { error: "expected a host name or address" }),
    port: integer(0, 65535),
    device: z.enum(["cpu", "cuda"], { error: "expected cpu or cuda" }),
    workers: integer(1, 256),
    threads: z
      .string()
      .trim()
      .refine((v) => v === "auto" || (/^[+]?\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1024), {
        error: 'expected "auto" or an integer between 1 and 1024',
      })
      .transform((v) => (v === "auto" ? ("auto" as const) : Number(v))),
    maxBatchSize: integer(1, 4096),
    maxTokensInFlight: integer(16, 100_000_000),
    prefillChunk: integer(1, 1_000_000),
    ortSpinning: z.enum(["auto", "on", "off"], { error: "expected auto, on or off" }),
    maxQueue: integer(0, 1_000_000),
    maxN: integer(1, 128),
    maxStop: integer(0, 64),
    maxBodyBytes: integer(1024, 1024 * MIB),
    maxPromptTokens: optionalInteger(1, 100_000_000),
    maxTokensCap: optionalInteger(1, 100_000_000),
    apiKeys: list,
    corsOrigins: list.pipe(z.array(origin)),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      error: "expected fatal, error, warn, info, debug, trace or silent",
    }),
    shutdownGraceMs: integer(0, 3_600_000),
    requestTimeoutMs: integer(1000, 3_600_000),
    headersTimeoutMs: integer(1000, 3_600_000),
    keepAliveTimeoutMs: integer(1, 3_600_000),
  })
  .refine((c) => c.headersTimeoutMs <= c.requestTimeoutMs, {
    error: "must not exceed the request timeout",
    path: ["headersTimeoutMs"],
  });

function defaults(): Record<OptionKey, string | null> {
  return {
    modelPath: DEFAULT_MODEL_PATH,
    modelName: null,
    host: "127.0.0.1",
    port: "8000",
    device: "cpu",
    workers: "1",
    threads: "auto",
    maxBatchSize: "16",
    maxTokensInFlight: "65536",
    prefillChunk: "512",
    ortSpinning: "auto",
    maxQueue: "256",
    maxN: "8",
    maxStop: "4",
    maxBodyBytes: String(16 * MIB),
    maxPromptTokens: "none",
    maxTokensCap: "none",
    apiKeys: "",
    corsOrigins: "",
    logLevel: "info",
    shutdownGraceMs: "10000",
    requestTimeoutMs: "60000",
    headersTimeoutMs: "10000",
    keepAliveTimeoutMs: "5000",
  };
}

export function helpText(): string {
  const rows = Object.values(OPTIONS).map((o: OptionSpec) => {
    const flag = `  --${o.flag} <value>`;
    return `${flag.padEnd(32)}${o.help} [env ${o.env}; default ${o.defaultText}]`;
  });
  return ["Usage: onnx-openai-server [options]", "", "Options (flags win over env vars):", ...rows, `  ${"--help".padEnd(30)}show this text`].join("\n");
}

const oneLine = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const parseOptions: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const o of Object.values(OPTIONS) as OptionSpec[]) parseOptions[o.flag] = { type: "string", multiple: o.multiple === true };

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: parseOptions, strict: true, allowPositionals: false });
  } catch (err) {
    // parseArgs messages are multi-line and suggest "--" tricks; keep the first line.
    throw new ConfigError((err as Error).message.split("\n")[0]);
  }
  if (parsed.values.help === true) return { kind: "help", text: helpText() };

  const raw = defaults();
  const source = {} as Record<OptionKey, string>;
  for (const key of Object.keys(OPTIONS) as OptionKey[]) {
    const spec: OptionSpec = OPTIONS[key];
    const flagValue = parsed.values[spec.flag];
    const envValue = env[spec.env];
    if (flagValue !== undefined) {
      raw[key] = Array.isArray(flagValue) ? flagValue.join(",") : String(flagValue);
      source[key] = `--${spec.flag}`;
    } else if (envValue !== undefined && envValue !== "") {
      raw[key] = envValue;
      source[key] = spec.env;
    } else {
      source[key] = `--${spec.flag}`;
    }
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue.path[0] as OptionKey;
    const shown = raw[key] === null ? "" : `, got ${oneLine(raw[key] as string)}`;
    throw new ConfigError(`${source[key] ?? String(key)}: ${issue.message}${shown}`);
  }
  return { kind: "config", config: result.data };
}

/** The model id to serve: the configured name, else the folder's basename. */
export function servedModelName(config: Pick<ServerConfig, "modelName" | "modelPath">): string {
  return config.modelName ?? basename(config.modelPath);
}
