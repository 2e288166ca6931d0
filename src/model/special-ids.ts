/**
 * BOS/EOS/PAD ids. Model folders disagree with themselves (the Llama fixtures'
 * genai_config says eos 1 while their tokenizer says </s> = 2), so one
 * precedence is applied, first hit wins:
 *   generation_config.json > config.json > genai_config.json > tokenizer_config.json
 *   (the token text resolved through tokenizer.json's added tokens).
 * Every id in the chosen EOS list ends a generation.
 */
import { asIdList, asTokenText, type JsonObject } from "./json-file.ts";

export interface SpecialIds {
  bos: number | null;
  eos: number[];
  pad: number | null;
  /** Where the EOS list came from, for the start-up log. */
  eosSource: string;
}

export interface SpecialIdSources {
  generationConfig: JsonObject | null;
  config: JsonObject | null;
  genaiModel: JsonObject | null;
  tokenizerConfig: JsonObject;
  tokenizerJson: Array<{ id: number; content: string }>;
}

export function resolveSpecialIds(s: SpecialIdSources): SpecialIds {
  const fromTokenizer = (field: string): number[] | null => {
    const text = asTokenText(s.tokenizerConfig[field]);
    const hit = text === null ? undefined : s.tokenizerJson.find((t) => t.content === text);
    return hit ? [hit.id] : null;
  };
  const ordered: Array<[string, JsonObject | null]> = [
    ["generation_config.json", s.generationConfig],
    ["config.json", s.config],
    ["genai_config.json", s.genaiModel],
  ];
  const pick = (field: string): { ids: number[] | null; source: string } => {
    for (const [source, obj] of ordered) {
      const ids = asIdList(obj?.[`${field}_token_id`]);
      if (ids) return { ids, source };
    }
    return { ids: fromTokenizer(`${field}_token`), source: "tokenizer_config.json" };
  };
  const eos = pick("eos");
  return {
    bos: pick("bos").ids?.[0] ?? null,
    eos: eos.ids ?? [],
    pad: pick("pad").ids?.[0] ?? null,
    eosSource: eos.ids ? eos.source : "none",
  };
}
