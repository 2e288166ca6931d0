/**
 * The tool_choice auto constraint the worker tests share: what follows a
 * Hermes <tool_call> marker when get_weather(city) is offered, one call.
 */
import type { OutputConstraint } from "../../src/domain.ts";
import { layoutOf } from "../../src/engine/tool-decoding.ts";
import { TOOL_CALL_SYNTAX } from "../../src/generation/tools/tool-call-format.ts";

export const hermesWeatherCallBody: OutputConstraint = {
  kind: "tool_calls",
  layout: layoutOf(TOOL_CALL_SYNTAX.hermes),
  functions: [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }],
  parallel: false,
  bodyOnly: true,
};
