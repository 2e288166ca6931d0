/**
 * The worker's structured-output service decides what steers a row. On a
 * vocabulary that cannot constrain (no single-character token for some
 * printable ASCII), a tool_choice auto row must stay free: its calls are
 * read as written, as the engine promised when it admitted the request.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { StructuredOutput } from "../../src/worker/structured-output.ts";
import { tinyChat } from "../support/fixtures.ts";
import { hermesWeatherCallBody } from "../support/tool-trigger.ts";

const body = hermesWeatherCallBody;
const autoRow = { constraint: null, toolTrigger: { open: "<tool_call>", body, parallel: false, reasoning: null } };

describe("StructuredOutput.guideFor", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("tiny-chat: a tool_choice auto row gets the trigger, a free row nothing", () => {
    const service = StructuredOutput.forModel(loadModelFolder(tinyChat), 414);
    expect(service.support.available).toBe(true);
    expect(service.guideFor(autoRow)).not.toBeNull();
    expect(service.guideFor({ constraint: null, toolTrigger: null })).toBeNull();
  });

  it("a vocabulary without a '~' token: the auto row stays free instead of failing when the model opens a call", () => {
    const dir = mkdtempSync(join(tmpdir(), "no-tilde-"));
    dirs.push(dir);
    cpSync(tinyChat, dir, { recursive: true });
    const path = join(dir, "tokenizer.json");
    const json = JSON.parse(readFileSync(path, "utf8")) as { model: { vocab: Record<string, number> } };
    const id = json.model.vocab["~"];
    delete json.model.vocab["~"];
    json.model.vocab["~~"] = id;
    writeFileSync(path, JSON.stringify(json));

    const service = StructuredOutput.forModel(loadModelFolder(dir), 414);
    expect(service.support).toMatchObject({ available: false, reason: expect.stringContaining('"~"') });
    expect(service.guideFor(autoRow)).toBeNull();
    expect(() => service.guideFor({ constraint: body, toolTrigger: null })).toThrow(/unavailable/);
  });
});
