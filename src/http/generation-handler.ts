/**
 * The flow shared by POST /v1/chat/completions and /v1/completions: parse,
 * check the model, admit with the engine (all errors before any byte is
 * written), then stream as SSE or collect into one JSON answer. The abort
 * signal handed to the engine fires when the client goes away; the events
 * are still read to their end then (the cancel has already put them in the
 * channel), so the request's outcome is the engine's.
 */
import type { OutgoingHttpHeaders } from "node:http";
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import type { CancelRelay, Registration, RequestHandles } from "../cluster/cancel-relay.ts";
import type { Engine, Generation, TokenEvent } from "../engine/engine.ts";
import { InternalError, modelNotFound, unavailable } from "../errors.ts";
import { buildChatCompletion, chatStreamFormatter } from "../protocol/chat-response.ts";
import { ChoiceCollector } from "../protocol/choice-collector.ts";
import { parseChatRequest } from "../protocol/chat-request.ts";
import { parseCompletionRequest } from "../protocol/completion-request.ts";
import { buildTextCompletion, completionStreamFormatter } from "../protocol/completion-response.ts";
import type { ParsedGenerationRequest, ProtocolLimits } from "../protocol/request-common.ts";
import type { ResponseIdentity, StreamFormatter } from "../protocol/response-types.ts";
import { toApiError } from "./error-mapper.ts";
import { clientRequestId, newCompletionId } from "./request-id.ts";
import { carriesToken, type RequestOutcome } from "./request-outcome.ts";
import { CLIENT_CLOSED_REQUEST } from "./request-tracking.ts";
import { SseWriter, writeSseHead } from "./sse-writer.ts";

export type Endpoint = "chat" | "completion";

export interface GenerationDeps {
  engine: Engine;
  /** The other replicas, for the stop endpoint (cancel-relay.ts); `singleReplica` without --redis-url. */
  relay: CancelRelay;
  limits: ProtocolLimits;
  /** Silence after which a stream gets a keep-alive comment; 0 for none. */
  sseHeartbeatMs: number;
}

const ENDPOINTS = {
  chat: { parse: parseChatRequest, build: buildChatCompletion, formatter: chatStreamFormatter },
  completion: { parse: parseCompletionRequest, build: buildTextCompletion, formatter: completionStreamFormatter },
} as const;

export async function handleGeneration(
  endpoint: Endpoint,
  request: FastifyRequest,
  reply: FastifyReply,
  deps: GenerationDeps,
  owner: string | undefined,
): Promise<void> {
  const outcome = request.generationOutcome;
  if (outcome === null) throw new InternalError("a generation route without request tracking");
  outcome.handlerStarted();
  let threw = true;
  try {
    await generate(endpoint, request, reply, deps, owner, outcome);
    threw = false;
  } finally {
    outcome.handlerReturned(threw);
  }
}

async function generate(
  endpoint: Endpoint,
  request: FastifyRequest,
  reply: FastifyReply,
  deps: GenerationDeps,
  owner: string | undefined,
  outcome: RequestOutcome,
): Promise<void> {
  const id = newCompletionId(endpoint);
  // A malformed client id is refused below; its 400 carries the completion id rather than echo bad bytes.
  reply.header("x-request-id", id);
  outcome.completionId = id;
  const log = request.log.child({ completionId: id });
  const clientId = clientRequestId(request.headers["x-request-id"]);
  // The gateway's or client's own id comes back unchanged (it is a cancel handle too); the completion id is in the body.
  if (clientId !== undefined) reply.header("x-request-id", clientId);
  const parsed = ENDPOINTS[endpoint].parse(request.body, deps.limits);
  outcome.parsed = parsed;
  if (parsed.model !== deps.engine.model.id) throw modelNotFound(parsed.model);
  if (deps.engine.health().shuttingDown) throw unavailable("The server is shutting down.", 1);

  const abort = new AbortController();
  // Covers the wait in engine.start and non-streamed requests; SseWriter watches the stream itself.
  const onClose = (): void => {
    if (!reply.raw.writableFinished) abort.abort();
  };
  reply.raw.once("close", onClose);
  // The request's one info line is written when it finishes (request-log.ts).
  log.debug({ stream: parsed.stream, n: parsed.request.n, maxTokens: parsed.request.maxTokens }, "generation requested");

  const { generation, registration } = await admit(deps, parsed, { id, clientRequestId: clientId, owner }, abort.signal);
  outcome.admitted(generation);
  const identity: ResponseIdentity = { id, created: Math.floor(Date.now() / 1000), model: deps.engine.model.id };

  try {
    if (parsed.stream) {
      reply.raw.off("close", onClose);
      const formatter = ENDPOINTS[endpoint].formatter(identity, { includeUsage: parsed.includeUsage });
      await streamGeneration(reply, generation, formatter, parsed, abort, log, outcome, deps.sseHeartbeatMs);
      return;
    }
    const answer = await collectGeneration(generation, parsed, abort.signal, outcome);
    if (answer === null) {
      log.info("client left before the answer was ready");
      return void reply.code(CLIENT_CLOSED_REQUEST).send();
    }
    await reply.send(ENDPOINTS[endpoint].build(identity, answer.collector.choices(), answer.usage));
  } finally {
    // The events have been read to their end (see the top of the file): the usage is final.
    void registration.finished(generation.usage());
  }
}

/**
 * The request's handles are known to the other replicas before the engine
 * admits it, so a cancel sent to any replica finds it from the first byte
 * of the response on; a request the engine refuses is forgotten again.
 */
async function admit(
  deps: GenerationDeps,
  parsed: ParsedGenerationRequest,
  handles: RequestHandles,
  signal: AbortSignal,
): Promise<{ generation: Generation; registration: Registration }> {
  const registration = await deps.relay.register(handles);
  try {
    const generation = await deps.engine.start(parsed.request, { ...handles, signal });
    return { generation, registration };
  } catch (error) {
    // Awaited: a gateway retries a 503 on another replica with the same client id at once.
    await registration.withdraw();
    throw error;
  }
}

type EndEvent = Extract<TokenEvent, { type: "end" }>;

/**
 * Returns null when the client went away; an `error` event is thrown, since
 * nothing was sent yet. The time to first token is when the first event
 * that follows from a token is taken.
 */
async function collectGeneration(
  generation: Generation,
  parsed: ParsedGenerationRequest,
  signal: AbortSignal,
  outcome: RequestOutcome,
): Promise<{ collector: ChoiceCollector; usage: EndEvent["usage"] } | null> {
  const collector = new ChoiceCollector(parsed.request.n, parsed.request.logprobs !== null);
  for await (const event of generation.events) {
    outcome.event(event);
    if (event.type === "error") {
      if (signal.aborted) return null;
      throw event.error;
    }
    if (event.type === "end") return signal.aborted ? null : { collector, usage: event.usage };
    if (signal.aborted) continue;
    if (carriesToken(event)) outcome.firstToken();
    collector.add(event);
  }
  if (signal.aborted) return null;
  throw new InternalError(`event stream of ${generation.id} ended without an end event`);
}

/**
 * After hijack nothing reaches Fastify's error handler, so every failure is
 * handled here. The time to first token is when the first chunk that
 * follows from a token is handed to the socket.
 */
async function streamGeneration(
  reply: FastifyReply,
  generation: Generation,
  formatter: StreamFormatter,
  parsed: ParsedGenerationRequest,
  abort: AbortController,
  log: FastifyBaseLogger,
  outcome: RequestOutcome,
  heartbeatMs: number,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  let clientGone = false;
  const writer = new SseWriter(
    res,
    () => {
      clientGone = true;
      abort.abort();
    },
    heartbeatMs,
  );
  try {
    writeSseHead(res, reply.getHeaders() as OutgoingHttpHeaders);
    for (const chunk of formatter.opening(parsed.request.n)) await writer.send(chunk);
    let terminated = false;
    for await (const event of generation.events) {
      outcome.event(event);
      terminated = event.type === "end" || event.type === "error";
      // A client that has gone gets nothing more, but the events are read to the end (see the top of the file).
      if (writer.isOpen) {
        if (carriesToken(event)) outcome.firstToken();
        if (event.type === "delta") await writer.send(formatter.delta(event));
        else if (event.type === "finish") await writer.send(formatter.finish(event));
        else if (event.type === "end") {
          if (parsed.includeUsage) await writer.send(formatter.usage(event.usage));
        } else await writer.send(toApiError(event.error, log).toBody());
      }
      if (terminated) break;
    }
    if (!terminated) {
      outcome.failed();
      if (writer.isOpen) await writer.send(toApiError(new InternalError("event stream ended without an end event"), log).toBody());
    }
    await writer.done();
  } catch (err) {
    // The head is already sent, so the only honest report left is an error event.
    outcome.failed();
    await writer.send(toApiError(err, log).toBody()).catch(() => false);
    await writer.done().catch(() => res.destroy());
  } finally {
    if (clientGone) log.info("client disconnected during the stream");
  }
}
