/**
 * The server's one logger factory: main.ts and the app use the same
 * redaction, so a credential that some serializer puts in a log line is
 * censored in production exactly as in the tests.
 */
import pino, { type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "./config.ts";

/** Never log credentials, wherever a serializer might put headers. */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "headers.cookie",
  "authorization",
  "apiKeys",
];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } };
  return destination ? pino(options, destination) : pino(options);
}
