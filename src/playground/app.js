/**
 * The playground page: wires the controls to the server's API. It asks for
 * the model list first (and for an API key when that answers 401), streams
 * each answer into the conversation, and stops a generation through the
 * server's stop endpoint by the X-Request-Id it sent, so Stop works even
 * before the first chunk and the server reports the usage at the stop.
 */
import { ApiClient, newRequestId } from "./api-client.js";
import { ApiError } from "./api-error.js";
import { chatStreamEvents } from "./chat-stream.js";
import { ConversationView } from "./conversation-view.js";
import { readSettings } from "./request-settings.js";
import { StatsView } from "./stats-view.js";
import { StreamStats } from "./stream-stats.js";

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T, prototype: T }} type
 * @returns {T}
 */
function element(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`index.html has no #${id} of the expected kind`);
  return found;
}

const ui = {
  serverStatus: element("server-status", HTMLElement),
  keyForm: element("key-form", HTMLFormElement),
  keyInput: element("api-key", HTMLInputElement),
  keyError: element("key-error", HTMLElement),
  model: element("model", HTMLSelectElement),
  temperature: element("temperature", HTMLInputElement),
  maxTokens: element("max-tokens", HTMLInputElement),
  extraFields: element("extra-fields", HTMLTextAreaElement),
  conversation: element("conversation", HTMLElement),
  composer: element("composer", HTMLFormElement),
  message: element("message", HTMLTextAreaElement),
  send: element("send", HTMLButtonElement),
  stop: element("stop", HTMLButtonElement),
  clear: element("clear", HTMLButtonElement),
  runStatus: element("run-status", HTMLElement),
};

const api = new ApiClient();
const view = new ConversationView(ui.conversation);
const statsView = new StatsView({
  ttft: element("ttft", HTMLElement),
  tokensPerSecond: element("tokens-per-second", HTMLElement),
  tokens: element("tokens", HTMLElement),
});

/** @type {Array<{ role: "user" | "assistant", content: string }>} the turns sent with the next request */
const history = [];

/**
 * The request being streamed.
 * @typedef {{ requestId: string, controller: AbortController, stopping: boolean }} Run
 * @type {Run | null}
 */
let run = null;

/** @param {unknown} error */
const describe = (error) => (error instanceof Error ? error.message : String(error));

/** @param {boolean} busy */
function setBusy(busy) {
  ui.conversation.setAttribute("aria-busy", String(busy));
  ui.send.disabled = busy || ui.model.value === "";
  ui.stop.disabled = !busy;
  ui.clear.disabled = busy;
}

async function loadModels() {
  ui.serverStatus.textContent = "Loading the model list…";
  try {
    const ids = await api.listModels();
    ui.model.replaceChildren(...ids.map((id) => new Option(id, id)));
    ui.model.disabled = ids.length === 0;
    ui.keyForm.hidden = true;
    ui.serverStatus.textContent = ids.length === 0 ? "The server lists no model." : "";
    setBusy(false);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) askForKey(api.hasApiKey ? error.message : "");
    else ui.serverStatus.textContent = `Cannot load the model list: ${describe(error)}`;
  }
}

/** @param {string} problem why the last key did not work; "" the first time */
function askForKey(problem) {
  ui.keyForm.hidden = false;
  ui.keyError.textContent = problem;
  ui.serverStatus.textContent = "This server needs an API key.";
  ui.keyInput.focus();
}

async function send() {
  const text = ui.message.value;
  if (run !== null || text.trim() === "") return;
  /** @type {Record<string, unknown>} */
  let fields;
  try {
    fields = readSettings(ui);
  } catch (error) {
    ui.runStatus.textContent = describe(error);
    return;
  }
  ui.message.value = "";
  history.push({ role: "user", content: text });
  view.addUser(text);
  const reply = view.startAssistant();
  const current = { requestId: newRequestId(), controller: new AbortController(), stopping: false };
  run = current;
  setBusy(true);
  ui.runStatus.textContent = "Streaming…";
  const stats = new StreamStats();
  statsView.show(stats);
  /** @type {string | null} */
  let finishReason = null;
  try {
    const body = { ...fields, messages: [...history], stream: true, stream_options: { include_usage: true } };
    const stream = await api.startChat(body, current.requestId, current.controller.signal);
    for await (const event of chatStreamEvents(stream)) {
      if (event.kind === "content") {
        stats.content();
        reply.append(event.text);
      } else if (event.kind === "finish") {
        finishReason = event.reason;
      } else {
        stats.usage(event.usage.completion_tokens);
      }
      statsView.showSoon(stats);
    }
    reply.end(`finish_reason: ${finishReason ?? "none"}`);
    history.push({ role: "assistant", content: reply.text });
    // While stopping, the stop endpoint's answer is the status to show.
    if (!current.stopping) ui.runStatus.textContent = `Done: finish_reason ${finishReason ?? "none"}, ${stats.tokens} tokens.`;
  } catch (error) {
    if (current.controller.signal.aborted) {
      reply.end("finish_reason: cancelled (connection closed)");
      history.push({ role: "assistant", content: reply.text });
    } else {
      reply.end(`Error: ${describe(error)}`, "error");
      // The failed turn is not sent again: the next request's history ends with the last complete answer.
      history.pop();
      ui.runStatus.textContent = `Error: ${describe(error)}`;
      if (error instanceof ApiError && error.status === 401) askForKey(error.message);
    }
  } finally {
    run = null;
    statsView.show(stats);
    setBusy(false);
    ui.message.focus();
  }
}

async function stop() {
  const current = run;
  if (current === null || current.stopping) return;
  current.stopping = true;
  ui.stop.disabled = true;
  ui.runStatus.textContent = "Stopping…";
  try {
    const { status, usage } = await api.cancelChat(current.requestId);
    const counts = `${usage.completion_tokens} completion tokens, ${usage.prompt_tokens} prompt tokens`;
    ui.runStatus.textContent = status === "cancelled" ? `cancelled: ${counts}` : `already finished: ${counts}`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && run === current) {
      // The server does not know the id yet: the request is still on its way. Closing the
      // connection cancels it the same way (a client that goes away is cancelled).
      current.controller.abort();
      ui.runStatus.textContent = "cancelled before the server started it";
    } else {
      current.stopping = false;
      ui.stop.disabled = run !== current;
      ui.runStatus.textContent = `Stop failed: ${describe(error)}`;
    }
  }
}

ui.keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  api.setApiKey(ui.keyInput.value.trim());
  // From here the key lives in ApiClient only; the field is emptied so it does not linger in the DOM.
  ui.keyInput.value = "";
  void loadModels();
});

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  void send();
});

ui.message.addEventListener("keydown", (event) => {
  // Enter sends and Shift+Enter starts a new line; an Enter that confirms an IME composition
  // (Chinese or Japanese input) only confirms it.
  if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
  event.preventDefault();
  ui.composer.requestSubmit();
});

ui.model.addEventListener("change", () => setBusy(run !== null));
ui.stop.addEventListener("click", () => void stop());
ui.clear.addEventListener("click", () => {
  history.length = 0;
  view.clear();
  statsView.reset();
  ui.runStatus.textContent = "";
  ui.message.focus();
});

setBusy(false);
void loadModels();
