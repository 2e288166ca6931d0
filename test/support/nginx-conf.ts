/**
 * Just enough of nginx's config syntax to check a file's settings in tests:
 * directives (`name arg …;`) and blocks (`name arg … { … }`), comments
 * dropped, quoted arguments unquoted. nginx itself checks the syntax in the
 * tests that run it.
 */
export interface NginxDirective {
  name: string;
  args: string[];
  /** The directives inside a block; undefined for a simple directive. */
  block?: NginxDirective[];
}

export function parseNginxConf(text: string): NginxDirective[] {
  const tokens = [...text.replace(/#[^\n]*/g, "").matchAll(/"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"']+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]);
  let at = 0;
  const readBlock = (closing: boolean): NginxDirective[] => {
    const directives: NginxDirective[] = [];
    while (at < tokens.length) {
      if (tokens[at] === "}") {
        if (!closing) throw new Error("unexpected }");
        at++;
        return directives;
      }
      const words: string[] = [];
      while (at < tokens.length && tokens[at] !== ";" && tokens[at] !== "{") words.push(tokens[at++]);
      const end = tokens[at++];
      if (end === undefined || words.length === 0) throw new Error(`directive without an end: ${words.join(" ")}`);
      const [name, ...args] = words;
      directives.push(end === "{" ? { name, args, block: readBlock(true) } : { name, args });
    }
    if (closing) throw new Error("missing }");
    return directives;
  };
  return readBlock(false);
}

/** Every directive named `name` at any depth under `directives`. */
export function findDirectives(directives: NginxDirective[], name: string): NginxDirective[] {
  return directives.flatMap((d) => [...(d.name === name ? [d] : []), ...findDirectives(d.block ?? [], name)]);
}
