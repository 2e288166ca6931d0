import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Model workers are real threads running ONNX Runtime: two files at a time on a 2-core machine.
    maxWorkers: 2,
  },
});
