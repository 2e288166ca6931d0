/**
 * The playground's files: src/playground, which `npm run build` copies to
 * dist/playground. They are read once, when the app is built: a handful of
 * small files, so memory is no concern, and each file gets a fixed route of
 * its own, so no request path ever reaches the filesystem.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Next to this module's folder in both layouts: src/http -> src/playground, dist/http -> dist/playground. */
export const PLAYGROUND_DIR = fileURLToPath(new URL("../playground/", import.meta.url));

/** The page's own scripts and styles; files of any other kind in the folder are not served. */
const ASSET_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

export interface PlaygroundAsset {
  /** `/` for the page, `/playground/<file>` for the rest: the page refers to them as relative URLs. */
  route: string;
  contentType: string;
  body: Buffer;
}

export function loadPlaygroundAssets(dir: string = PLAYGROUND_DIR): PlaygroundAsset[] {
  const page = join(dir, "index.html");
  if (!existsSync(page)) {
    throw new Error(`The playground's files are missing (no ${page}; npm run build copies them into dist/). Start with --no-playground to serve without it.`);
  }
  const assets: PlaygroundAsset[] = [{ route: "/", contentType: "text/html; charset=utf-8", body: readFileSync(page) }];
  for (const name of readdirSync(dir).sort()) {
    const contentType = ASSET_TYPES[extname(name)];
    if (contentType !== undefined) assets.push({ route: `/playground/${name}`, contentType, body: readFileSync(join(dir, name)) });
  }
  return assets;
}
