/**
 * loadTokenizer narrows the ByteLevel decoder's added-token list for speed;
 * decoding must stay exactly what the library gives without that change.
 */
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";
import { defaultModelPath, fixturePath, haveFixtures } from "../support/fixtures.ts";

const folders = [defaultModelPath, ...(haveFixtures ? [fixturePath("tiny-random-gpt2-fp32")] : [])];

describe("loadTokenizer decodes as the library does", () => {
  for (const dir of folders) {
    it(`${dir.split("/").pop()}: random id sequences decode identically`, () => {
      const folder = loadModelFolder(dir);
      const ours = loadTokenizer(folder).full;
      const reference = new Tokenizer(JSON.parse(readFileSync(folder.tokenizerPath, "utf8")), folder.tokenizerConfig);
      const size = reference.get_vocab(true).size;
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: size - 1 }), { minLength: 1, maxLength: 24 }), fc.boolean(), (ids, skip) => {
          const options = { skip_special_tokens: skip, clean_up_tokenization_spaces: false };
          expect(ours.decode(ids, options)).toBe(reference.decode(ids, options));
        }),
        { numRuns: 300, seed: 7 },
      );
    });
  }
});
