/**
 * A Hugging Face Hub on loopback, answering as the real one does the
 * requests a pull makes: the revision and tree APIs (paged with a Link
 * header; sizes, git blob ids and LFS sha256), and resolve/<rev>/<path>,
 * which serves git files itself and redirects LFS files with a 302 to a
 * second server on another port (the Hub's content host), so a test can
 * see that HF_TOKEN stays with the Hub. Both honour Range (206 with
 * Content-Range, 416 past the end). A gated repo refuses resolve without
 * its token (401) or with another (403); an unknown repo or revision is a
 * 404 with the Hub's X-Error-Code. Faults are injected per file path: a
 * connection cut after N bytes, a 503, wrong bytes, a server that ignores
 * Range. Every request is recorded.
 */
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";

export interface FakeRepo {
  id: string;
  files: Record<string, Buffer>;
  /** resolve needs `Authorization: Bearer <gatedToken>`. */
  gatedToken?: string;
}

export interface RecordedRequest {
  server: "hub" | "content";
  url: string;
  authorization: string | null;
  range: string | null;
}

export interface FakeHub {
  /** The endpoint (HF_ENDPOINT). */
  url: string;
  /** The content host LFS files redirect to. */
  contentUrl: string;
  requests: RecordedRequest[];
  /** The commit sha `main` points at in `repo`. */
  commitOf(repo: string): string;
  /** The next download of `path` (any repo) sends `bytes` bytes and closes the connection. */
  cutOnce(path: string, bytes: number): void;
  /** The next download of `path` answers with `status`. */
  failOnce(path: string, status: number): void;
  /** Every download of `path` sends other bytes of the same length. */
  corrupt(path: string): void;
  /** Every download answers 200 with the whole file, whatever Range asks. */
  ignoreRange: boolean;
  close(): Promise<void>;
}

interface StoredFile {
  path: string;
  bytes: Buffer;
  gitOid: string;
  sha256: string;
  lfs: boolean;
}

interface StoredRepo {
  spec: FakeRepo;
  commit: string;
  files: Map<string, StoredFile>;
}

/** Like the Hub's default .gitattributes: ONNX files and their external data go to LFS. */
const isLfs = (path: string): boolean => /\.onnx($|_data|\.data)/.test(path);

const sha = (algorithm: "sha1" | "sha256", ...parts: Array<string | Buffer>): string => {
  const hash = createHash(algorithm);
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
};

export async function startFakeHub(repos: FakeRepo[], options: { pageSize?: number } = {}): Promise<FakeHub> {
  const pageSize = options.pageSize ?? 3;
  const stored = new Map<string, StoredRepo>(
    repos.map((spec) => [
      spec.id,
      {
        spec,
        commit: sha("sha1", `commit of ${spec.id}`),
        files: new Map(
          Object.entries(spec.files).map(([path, bytes]) => [
            path,
            { path, bytes, gitOid: sha("sha1", `blob ${bytes.length}\0`, bytes), sha256: sha("sha256", bytes), lfs: isLfs(path) },
          ]),
        ),
      },
    ]),
  );
  const byHash = new Map<string, StoredFile>();
  for (const repo of stored.values()) for (const file of repo.files.values()) byHash.set(file.sha256, file);

  const requests: RecordedRequest[] = [];
  const cuts = new Map<string, number>();
  const failures = new Map<string, number>();
  const corrupted = new Set<string>();

  const hub = Fastify({ logger: false });
  const content = Fastify({ logger: false });
  for (const [server, app] of [["hub", hub], ["content", content]] as const) {
    app.addHook("onRequest", async (request) => {
      requests.push({ server, url: request.url, authorization: request.headers.authorization ?? null, range: request.headers.range ?? null });
    });
  }

  /** The repo and whether `rev` names its commit; sends the Hub's 404 otherwise. */
  const find = (params: { owner: string; name: string; rev: string }, reply: FastifyReply): StoredRepo | null => {
    const repo = stored.get(`${params.owner}/${params.name}`);
    if (!repo) {
      void reply.code(404).header("x-error-code", "RepoNotFound").send({ error: "Repository not found" });
      return null;
    }
    if (params.rev !== "main" && params.rev !== repo.commit) {
      void reply.code(404).header("x-error-code", "RevisionNotFound").send({ error: `Invalid rev id: ${params.rev}` });
      return null;
    }
    return repo;
  };

  type RepoParams = { owner: string; name: string; rev: string };

  hub.get<{ Params: RepoParams }>("/api/models/:owner/:name/revision/:rev", async (request, reply) => {
    const repo = find(request.params, reply);
    if (repo) return { id: repo.spec.id, sha: repo.commit };
    return reply;
  });

  hub.get<{ Params: RepoParams; Querystring: { recursive?: string; cursor?: string } }>("/api/models/:owner/:name/tree/:rev", async (request, reply) => {
    const repo = find(request.params, reply);
    if (!repo) return reply;
    const folders = new Set([...repo.files.keys()].filter((p) => p.includes("/")).map((p) => p.slice(0, p.lastIndexOf("/"))));
    const entries = [
      ...[...folders].map((path) => ({ type: "directory", path, size: 0, oid: sha("sha1", `tree ${path}`) })),
      ...[...repo.files.values()].map((f) => ({
        type: "file",
        path: f.path,
        // The Hub lists an LFS file with its content's size and the pointer's blob id.
        size: f.bytes.length,
        oid: f.lfs ? sha("sha1", `pointer ${f.sha256}`) : f.gitOid,
        ...(f.lfs ? { lfs: { oid: f.sha256, size: f.bytes.length, pointerSize: 134 } } : {}),
      })),
    ].sort((a, b) => a.path.localeCompare(b.path));
    const start = Number(request.query.cursor ?? 0);
    const page = entries.slice(start, start + pageSize);
    if (start + pageSize < entries.length) {
      const next = `${hubUrl}/api/models/${repo.spec.id}/tree/${encodeURIComponent(request.params.rev)}?recursive=true&cursor=${start + pageSize}`;
      void reply.header("link", `<${next}>; rel="next"`);
    }
    return page;
  });

  hub.get<{ Params: RepoParams & { "*": string } }>("/:owner/:name/resolve/:rev/*", async (request, reply) => {
    const repo = find(request.params, reply);
    if (!repo) return reply;
    const file = repo.files.get(request.params["*"]);
    if (!file) return reply.code(404).header("x-error-code", "EntryNotFound").send({ error: "Entry not found" });
    if (repo.spec.gatedToken !== undefined) {
      const auth = request.headers.authorization;
      if (auth !== `Bearer ${repo.spec.gatedToken}`) {
        return reply
          .code(auth === undefined ? 401 : 403)
          .header("x-error-code", "GatedRepo")
          .send({ error: `Access to model ${repo.spec.id} is restricted.` });
      }
    }
    void reply.header("x-repo-commit", repo.commit).header("etag", `"${file.lfs ? file.sha256 : file.gitOid}"`);
    if (file.lfs) {
      void reply.header("x-linked-etag", `"${file.sha256}"`).header("x-linked-size", String(file.bytes.length));
      return reply.redirect(`${contentUrl}/blobs/${file.sha256}?signature=fake`, 302);
    }
    return serveBytes(file, request, reply);
  });

  content.get<{ Params: { sha: string } }>("/blobs/:sha", async (request, reply) => {
    const file = byHash.get(request.params.sha);
    if (!file) return reply.code(404).send("no such blob");
    return serveBytes(file, request, reply);
  });

  /** The file (or the range asked for), with the faults set for its path. */
  function serveBytes(file: StoredFile, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const failure = failures.get(file.path);
    if (failure !== undefined) {
      failures.delete(file.path);
      return reply.code(failure).send("injected failure");
    }
    let bytes = file.bytes;
    if (corrupted.has(file.path)) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length >> 1] ^= 0xff;
    }
    let start = 0;
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? "");
    if (range && !hubState.ignoreRange) {
      start = Number(range[1]);
      const end = range[2] === "" ? bytes.length - 1 : Math.min(Number(range[2]), bytes.length - 1);
      if (start >= bytes.length) return reply.code(416).header("content-range", `bytes */${bytes.length}`).send();
      void reply.code(206).header("content-range", `bytes ${start}-${end}/${bytes.length}`);
      bytes = bytes.subarray(start, end + 1);
    }
    const cut = cuts.get(file.path);
    if (cut !== undefined) {
      cuts.delete(file.path);
      // Headers promise the whole body; the connection ends after `cut` bytes.
      reply.hijack();
      reply.raw.writeHead(reply.statusCode, { ...(reply.getHeaders() as Record<string, string>), "content-length": String(bytes.length), "content-type": "application/octet-stream" });
      reply.raw.write(bytes.subarray(0, cut), () => reply.raw.socket?.destroy());
      return reply;
    }
    return reply.header("content-type", "application/octet-stream").send(bytes);
  }

  await hub.listen({ host: "127.0.0.1", port: 0 });
  await content.listen({ host: "127.0.0.1", port: 0 });
  const hubUrl = `http://127.0.0.1:${(hub.server.address() as AddressInfo).port}`;
  const contentUrl = `http://127.0.0.1:${(content.server.address() as AddressInfo).port}`;

  const hubState: FakeHub = {
    url: hubUrl,
    contentUrl,
    requests,
    ignoreRange: false,
    commitOf: (repo) => {
      const found = stored.get(repo);
      if (!found) throw new Error(`no fake repo ${repo}`);
      return found.commit;
    },
    cutOnce: (path, bytes) => void cuts.set(path, bytes),
    failOnce: (path, status) => void failures.set(path, status),
    corrupt: (path) => void corrupted.add(path),
    async close() {
      await hub.close();
      await content.close();
    },
  };
  return hubState;
}
