/** docs/RELIABILITY.md "Bodies": every malformed body is a 4xx envelope and the server keeps serving. */
import { afterAll, describe, expect, it } from "vitest";
import { chatBody, makeApp } from "./helpers.ts";

const { app, engine } = makeApp();
afterAll(() => app.close());

async function post(payload: string, contentType = "application/json", url = "/v1/chat/completions") {
  return app.inject({ method: "POST", url, payload, headers: { "content-type": contentType } });
}

async function expectStillServing(): Promise<void> {
  const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody() });
  expect(res.statusCode).toBe(200);
}

describe("malformed bodies -> 400", () => {
  for (const [name, payload] of [
    ["malformed JSON", '{"model": "tiny-chat",'],
    ["a string", '"x"'],
    ["an array", "[]"],
    ["a number", "42"],
    ["null", "null"],
    ["true", "true"],
  ] as const) {
    it(name, async () => {
      const res = await post(payload);
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body).error.type).toBe("invalid_request_error");
      await expectStillServing();
    });
  }

  it("an empty body with a JSON content type", async () => {
    expect((await post("")).statusCode).toBe(400);
  });

  it("no body and no content type", async () => {
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions" });
    expect(res.statusCode).toBe(400);
  });

  it("a body without a content type is 415", async () => {
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: Buffer.from("{}") });
    expect(res.statusCode).toBe(415);
    expect(JSON.parse(res.body).error.code).toBe("unsupported_media_type");
  });
});

describe("prototype pollution", () => {
  for (const payload of [
    '{"__proto__": {"polluted": true}, "model": "tiny-chat", "messages": [{"role":"user","content":"x"}]}',
    '{"model": "tiny-chat", "messages": [{"role":"user","content":"x", "__proto__": {"polluted": true}}]}',
    '{"constructor": {"prototype": {"polluted": true}}, "model": "tiny-chat", "messages": []}',
    '{"model": "tiny-chat", "messages": [{"role":"user","content":"x"}], "logit_bias": {"__proto__": {"polluted": 1}}}',
  ]) {
    it(payload.slice(0, 60), async () => {
      const res = await post(payload);
      expect(res.statusCode).toBe(400);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      await expectStillServing();
    });
  }
});

describe("deeply nested JSON (10^5 levels) -> 400, no stack overflow", () => {
  const depth = 100_000;
  const nestedArray = "[".repeat(depth) + "]".repeat(depth);
  const nestedObject = '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  const places: Array<[string, string]> = [
    ["as the body", nestedArray],
    ["as an unknown field", `{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"deep":${nestedObject}}`],
    ["as an unsupported field", `{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"metadata":${nestedObject}}`],
    ["as content", `{"model":"tiny-chat","messages":[{"role":"user","content":${nestedArray}}]}`],
    ["as a message", `{"model":"tiny-chat","messages":${nestedArray}}`],
    ["as a logit_bias value", `{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"logit_bias":{"1":${nestedArray}}}`],
    ["as stop", `{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"stop":${nestedArray}}`],
    ["as a message field", `{"model":"tiny-chat","messages":[{"role":"user","content":"x","name":${nestedObject}}]}`],
    ["as a tool's parameters", `{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":${nestedObject}}}]}`],
    ["as a template variable", `{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"chat_template_kwargs":{"a":${nestedArray}}}`],
  ];
  for (const [where, payload] of places) {
    it(where, async () => {
      const res = await post(payload);
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body).error.type).toBe("invalid_request_error");
    });
  }
  it("as a completion prompt", async () => {
    const res = await post(`{"model":"tiny-chat","prompt":${nestedArray}}`, "application/json", "/v1/completions");
    expect(res.statusCode).toBe(400);
    await expectStillServing();
  });
});

it("accepts a JSON content type with charset", async () => {
  const res = await post(JSON.stringify(chatBody()), "application/json; charset=utf-8");
  expect(res.statusCode).toBe(200);
  expect(engine.starts.length).toBeGreaterThan(0);
});
