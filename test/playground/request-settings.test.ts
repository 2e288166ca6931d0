/** The page's request controls as request fields (src/playground/request-settings.js), with stand-in controls. */
import { describe, expect, it } from "vitest";
import { readSettings, type SettingsControls } from "../../src/playground/request-settings.js";

function controls(values: { model?: string; temperature?: string; maxTokens?: string; extra?: string }): SettingsControls {
  const numberBox = (value: string) => ({ value, valueAsNumber: value === "" ? Number.NaN : Number(value) });
  return {
    model: { value: values.model ?? "tiny-chat" },
    temperature: numberBox(values.temperature ?? "0.7"),
    maxTokens: numberBox(values.maxTokens ?? "256"),
    extraFields: { value: values.extra ?? "" },
  } as unknown as SettingsControls;
}

describe("readSettings", () => {
  it("sends the controls as numbers, and leaves an empty box to the server's default", () => {
    expect(readSettings(controls({}))).toEqual({ model: "tiny-chat", temperature: 0.7, max_tokens: 256 });
    expect(readSettings(controls({ temperature: "", maxTokens: "" }))).toEqual({ model: "tiny-chat" });
  });

  it("adds the extra fields, which the server then validates", () => {
    expect(readSettings(controls({ extra: '{"seed": 1, "logit_bias": {"413": -100}}' }))).toEqual({
      seed: 1,
      logit_bias: { "413": -100 },
      model: "tiny-chat",
      temperature: 0.7,
      max_tokens: 256,
    });
  });

  it("refuses extra fields that are not a JSON object, or that the page sets itself", () => {
    expect(() => readSettings(controls({ extra: "{seed: 1}" }))).toThrow(/^Extra request fields: not JSON/);
    expect(() => readSettings(controls({ extra: "[1]" }))).toThrow(/expected a JSON object/);
    expect(() => readSettings(controls({ extra: '{"stream": false, "messages": []}' }))).toThrow("Extra request fields: messages, stream are set by the page.");
    expect(() => readSettings(controls({ model: "" }))).toThrow(/model list is empty/);
  });
});
