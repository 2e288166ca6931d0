/** GET /metrics over the fake engine: format, content type, and the API key rule. */
import { describe, expect, it } from "vitest";
import { makeApp } from "./helpers.ts";

describe("GET /metrics", () => {
  it("answers the engine's figures in the Prometheus text format", async () => {
    const { app } = makeApp();
    const res = await app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    const lines = res.body.split("\n");
    expect(lines).toContain("# TYPE onnx_server_running_rows gauge");
    expect(lines).toContain("onnx_server_running_rows 3");
    expect(lines).toContain("onnx_server_queued_rows 2");
    expect(lines).toContain("onnx_server_generated_tokens_total 42");
    expect(lines).toContain('onnx_server_step_seconds{quantile="0.99"} 0.007');
    expect(lines).toContain("onnx_server_release_steps_count 0");
    await app.close();
  });

  it("needs the API key when keys are configured", async () => {
    const { app } = makeApp({ apiKeys: ["key-a"] });
    const without = await app.inject({ method: "GET", url: "/metrics" });
    expect(without.statusCode).toBe(401);
    expect(without.json()).toMatchObject({ error: { type: "authentication_error", code: "invalid_api_key" } });
    const withKey = await app.inject({ method: "GET", url: "/metrics", headers: { authorization: "Bearer key-a" } });
    expect(withKey.statusCode).toBe(200);
    await app.close();
  });
});
