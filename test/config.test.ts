import { isAbsolute, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, resolveOption, servedModelName, type ServerConfig } from "../src/config.ts";

function config(argv: string[], env: NodeJS.ProcessEnv = {}): ServerConfig {
  const parsed = parseConfig(argv, env);
  if (parsed.kind !== "config") throw new Error("expected a config");
  return parsed.config;
}

function errorOf(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("has the documented defaults", () => {
    const c = config([]);
    expect(c).toMatchObject({
      modelName: null,
      host: "127.0.0.1",
      port: 8000,
      device: "cpu",
      workers: 1,
      maxBatchSize: 16,
      maxQueue: 256,
      maxN: 8,
      maxStop: 4,
      maxBodyBytes: 16 * 1024 * 1024,
      maxSchemaBytes: 65536,
      maxPromptTokens: null,
      maxTokensCap: null,
      apiKeys: [],
      corsOrigins: [],
      logLevel: "info",
      logPrompts: false,
      shutdownGraceMs: 10_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
      sseHeartbeatMs: 15_000,
      redisUrl: null,
    });
    expect(c.threads).toBe("auto");
    expect(c.modelPath).toBe(resolve(import.meta.dirname, "../models/tiny-chat"));
    expect(servedModelName(c)).toBe("tiny-chat");
  });

  it("--log-prompts is a switch (--no-log-prompts turns it off); LOG_PROMPTS takes true/false, 1/0, yes/no or on/off", () => {
    expect(config(["--log-prompts"]).logPrompts).toBe(true);
    for (const [value, expected] of [["true", true], ["1", true], ["on", true], ["false", false], ["0", false], ["off", false]] as const) {
      expect(config([], { LOG_PROMPTS: value }).logPrompts).toBe(expected);
    }
    expect(config(["--log-prompts"], { LOG_PROMPTS: "off" }).logPrompts).toBe(true);
    expect(config(["--no-log-prompts"], { LOG_PROMPTS: "on" }).logPrompts).toBe(false);
    expect(errorOf([], { LOG_PROMPTS: "yes please" })).toBe('LOG_PROMPTS: expected true or false (or 1/0, yes/no, on/off), got "yes please"');
    expect(errorOf(["--log-prompts=on"])).toMatch(/log-prompts/);
    const help = parseConfig(["--help"], {});
    expect(help.kind === "help" && help.text).toMatch(/\n {2}--\[no-\]log-prompts {2,}write each request's prompt/);
  });

  it("reads flags and resolves a relative model path against the current directory", () => {
    const c = config(["--model", "./some/folder", "--port", "8123", "--device", "cuda", "--workers", "2", "--threads", "3"]);
    expect(c.modelPath).toBe(resolve(process.cwd(), "some/folder"));
    expect(isAbsolute(c.modelPath)).toBe(true);
    expect(c).toMatchObject({ port: 8123, device: "cuda", workers: 2, threads: 3 });
  });

  it("supports --flag=value and every limit flag", () => {
    const c = config([
      "--max-batch-size=4",
      "--max-queue=0",
      "--max-n=2",
      "--max-stop=1",
      "--max-body-bytes=4096",
      "--max-prompt-tokens=100",
      "--max-tokens-cap=50",
      "--model-name=my-model",
      "--log-level=debug",
      "--shutdown-grace-ms=0",
    ]);
    expect(c).toMatchObject({
      maxBatchSize: 4,
      maxQueue: 0,
      maxN: 2,
      maxStop: 1,
      maxBodyBytes: 4096,
      maxPromptTokens: 100,
      maxTokensCap: 50,
      modelName: "my-model",
      logLevel: "debug",
      shutdownGraceMs: 0,
    });
    expect(servedModelName(c)).toBe("my-model");
  });

  it("reads env vars, and flags win over them", () => {
    const env = { PORT: "9000", HOST: "0.0.0.0", MODEL_PATH: "/abs/model", MAX_N: "3" };
    expect(config([], env)).toMatchObject({ port: 9000, host: "0.0.0.0", modelPath: "/abs/model", maxN: 3 });
    expect(config(["--port", "9001"], env).port).toBe(9001);
  });

  it("treats an empty env var as unset", () => {
    expect(config([], { PORT: "" }).port).toBe(8000);
  });

  it("splits API keys and CORS origins on commas and repeated flags", () => {
    expect(config(["--api-key", "a,b", "--api-key", " c "]).apiKeys).toEqual(["a", "b", "c"]);
    expect(config([], { API_KEYS: "x, y" }).apiKeys).toEqual(["x", "y"]);
    expect(config(["--api-key", "z"], { API_KEYS: "x" }).apiKeys).toEqual(["z"]);
    expect(config(["--cors-origin", "https://a.example,http://localhost:3000"]).corsOrigins).toEqual([
      "https://a.example",
      "http://localhost:3000",
    ]);
  });

  it("takes the model file's dtype (auto by default) from the flag or DTYPE, by the transformers.js names", () => {
    expect(config([]).dtype).toBe("auto");
    expect(config(["--dtype", "q4"]).dtype).toBe("q4");
    expect(config([], { DTYPE: "q4f16" }).dtype).toBe("q4f16");
    expect(errorOf(["--dtype", "int3"])).toBe(
      '--dtype: expected auto, fp32, fp32-fused, fp16, q8, int8, uint8, q4, q4f16, bnb4, got "int3"',
    );
  });

  it("takes threads as auto or a positive integer", () => {
    expect(config(["--threads", "auto"]).threads).toBe("auto");
    expect(config([], { THREADS: "2" }).threads).toBe(2);
    expect(errorOf(["--threads", "0"])).toBe('--threads: expected "auto" or an integer between 1 and 1024, got "0"');
  });

  it("fails with one line naming the flag or env var and the value", () => {
    expect(errorOf(["--port", "abc"])).toBe('--port: expected an integer between 0 and 65535, got "abc"');
    expect(errorOf([], { PORT: "70000" })).toBe('PORT: expected an integer between 0 and 65535, got "70000"');
    expect(errorOf(["--device", "tpu"])).toMatch(/^--device: expected cpu or cuda/);
    expect(errorOf(["--workers", "0"])).toMatch(/^--workers: /);
    expect(errorOf(["--max-n", "1.5"])).toMatch(/^--max-n: /);
    expect(errorOf(["--log-level", "loud"])).toMatch(/^--log-level: /);
    expect(errorOf(["--cors-origin", "*"])).toMatch(/^--cors-origin: .*no \*/);
    expect(errorOf(["--headers-timeout-ms", "120000"])).toMatch(/^--headers-timeout-ms: must not exceed the request timeout/);
    for (const message of [errorOf(["--port", "abc"]), errorOf(["--bogus"]), errorOf(["--port"])]) {
      expect(message).not.toContain("\n");
    }
  });

  it("serves the playground unless --no-playground or PLAYGROUND says off; the flag wins over the env var", () => {
    expect(config([]).playground).toBe(true);
    expect(config(["--no-playground"]).playground).toBe(false);
    expect(config(["--playground"], { PLAYGROUND: "false" }).playground).toBe(true);
    expect(config(["--playground", "--no-playground"]).playground).toBe(false);
    for (const off of ["false", "0", "no", "OFF"]) expect(config([], { PLAYGROUND: off }).playground).toBe(false);
    for (const on of ["true", "1", "yes", "On"]) expect(config([], { PLAYGROUND: on }).playground).toBe(true);
    expect(errorOf([], { PLAYGROUND: "maybe" })).toBe('PLAYGROUND: expected true or false (or 1/0, yes/no, on/off), got "maybe"');
    expect(errorOf(["--playground=no"])).toMatch(/playground/);
    // Only switches have a --no- form.
    expect(errorOf(["--no-port"])).toMatch(/no-port/);
  });

  it("--sse-heartbeat-ms takes 0 (off) or milliseconds", () => {
    expect(config(["--sse-heartbeat-ms", "0"]).sseHeartbeatMs).toBe(0);
    expect(config([], { SSE_HEARTBEAT_MS: "500" }).sseHeartbeatMs).toBe(500);
    expect(errorOf(["--sse-heartbeat-ms=-1"])).toBe('--sse-heartbeat-ms: expected an integer between 0 and 3600000, got "-1"');
  });

  it("--redis-url / REDIS_URL takes redis:// or rediss:// URLs; a bad one is refused without echoing it (it may hold a password)", () => {
    expect(config(["--redis-url", "redis://127.0.0.1:6379"]).redisUrl).toBe("redis://127.0.0.1:6379");
    expect(config([], { REDIS_URL: "rediss://user:pw@redis.example:6380/2" }).redisUrl).toBe("rediss://user:pw@redis.example:6380/2");
    expect(config([], { REDIS_URL: "redis://redis" }).redisUrl).toBe("redis://redis");
    for (const bad of ["http://redis:6379", "redis:/nohost", "redis://:s3cret@/0", "redis://host:6379/db-x", "127.0.0.1:6379"]) {
      const message = errorOf([], { REDIS_URL: bad });
      expect(message).toMatch(/^REDIS_URL: expected redis:\/\/host:port/);
      expect(message).not.toContain(bad);
    }
    expect(errorOf(["--redis-url", "http://x"])).toMatch(/^--redis-url: /);
  });

  it("rejects unknown flags and positional arguments", () => {
    expect(errorOf(["--bogus"])).toMatch(/bogus/);
    expect(errorOf(["serve"])).toMatch(/serve/);
  });

  it("--help lists every flag with its env var and default", () => {
    const parsed = parseConfig(["--help"], {});
    expect(parsed.kind).toBe("help");
    if (parsed.kind !== "help") return;
    for (const [flag, env] of [
      ["--model", "MODEL_PATH"],
      ["--host", "HOST"],
      ["--port", "PORT"],
      ["--device", "DEVICE"],
      ["--workers", "WORKERS"],
      ["--threads", "THREADS"],
      ["--max-batch-size", "MAX_BATCH_SIZE"],
      ["--max-queue", "MAX_QUEUE"],
      ["--max-n", "MAX_N"],
      ["--max-stop", "MAX_STOP"],
      ["--max-body-bytes", "MAX_BODY_BYTES"],
      ["--max-schema-bytes", "MAX_SCHEMA_BYTES"],
      ["--tool-call-format", "TOOL_CALL_FORMAT"],
      ["--max-prompt-tokens", "MAX_PROMPT_TOKENS"],
      ["--max-tokens-cap", "MAX_TOKENS_CAP"],
      ["--api-key", "API_KEYS"],
      ["--cors-origin", "CORS_ORIGINS"],
      ["--log-level", "LOG_LEVEL"],
      ["--shutdown-grace-ms", "SHUTDOWN_GRACE_MS"],
      ["--model-name", "MODEL_NAME"],
      ["--[no-]playground", "PLAYGROUND"],
      ["--redis-url", "REDIS_URL"],
      ["--sse-heartbeat-ms", "SSE_HEARTBEAT_MS"],
    ]) {
      const line = parsed.text.split("\n").find((l) => l.trimStart().startsWith(`${flag} `));
      expect(line, flag).toBeDefined();
      expect(line).toContain(`env ${env}`);
      expect(line).toContain("default ");
    }
    expect(parseConfig(["-h"], {}).kind).toBe("help");
  });
});

describe("resolveOption (options a subcommand shares with the server)", () => {
  it("flag, else env var, else default, validated as parseConfig does", () => {
    expect(resolveOption("dtype", "q4", { DTYPE: "q8" })).toBe("q4");
    expect(resolveOption("dtype", undefined, { DTYPE: "q8" })).toBe("q8");
    expect(resolveOption("dtype", undefined, { DTYPE: "" })).toBe("auto");
    expect(resolveOption("modelsDir", undefined, {})).toBe(config([]).modelsDir);
    expect(resolveOption("modelsDir", "rel/models", {})).toBe(resolve("rel/models"));
    expect(() => resolveOption("device", "tpu", {})).toThrow(new ConfigError('--device: expected cpu or cuda, got "tpu"'));
    expect(() => resolveOption("device", undefined, { DEVICE: "tpu" })).toThrow(new ConfigError('DEVICE: expected cpu or cuda, got "tpu"'));
  });
});
