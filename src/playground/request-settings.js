/**
 * The request controls (model, temperature, max tokens, extra fields) as
 * the fields of a chat request. The server validates every value and
 * answers a 400 naming the field, which the page shows; this only turns the
 * controls' text into JSON and refuses what the page itself must decide.
 */

/** Fields the page sets itself: the extra-fields box may not override them. */
const PAGE_FIELDS = ["model", "messages", "stream", "stream_options", "temperature", "max_tokens"];

/**
 * @typedef {{ model: HTMLSelectElement, temperature: HTMLInputElement, maxTokens: HTMLInputElement, extraFields: HTMLTextAreaElement }} SettingsControls
 */

/**
 * @param {SettingsControls} controls
 * @returns {Record<string, unknown>} the request's fields except `messages` and the streaming ones
 * @throws {Error} when a control's value cannot be sent
 */
export function readSettings(controls) {
  const fields = parseExtraFields(controls.extraFields.value);
  if (controls.model.value === "") throw new Error("No model to ask: the model list is empty.");
  fields.model = controls.model.value;
  // An empty number box means "the server's default": the field is left out.
  if (controls.temperature.value !== "") fields.temperature = controls.temperature.valueAsNumber;
  if (controls.maxTokens.value !== "") fields.max_tokens = controls.maxTokens.valueAsNumber;
  return fields;
}

/**
 * @param {string} text the extra-fields box: empty, or a JSON object such as {"seed": 1, "stop": ["\n"]}
 * @returns {Record<string, unknown>}
 */
function parseExtraFields(text) {
  if (text.trim() === "") return {};
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`Extra request fields: not JSON (${/** @type {Error} */ (error).message}).`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error('Extra request fields: expected a JSON object such as {"seed": 1}.');
  }
  const fields = /** @type {Record<string, unknown>} */ (value);
  const taken = PAGE_FIELDS.filter((name) => Object.hasOwn(fields, name));
  if (taken.length > 0) throw new Error(`Extra request fields: ${taken.join(", ")} ${taken.length === 1 ? "is" : "are"} set by the page.`);
  return fields;
}
