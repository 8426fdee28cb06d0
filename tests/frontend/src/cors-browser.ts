// CORS as a browser enforces it: a page served from an allowed origin reads a case, can read its ETag
// (exposed by Access-Control-Expose-Headers) and changes it with If-Match; the same page served from an
// origin the server does not allow cannot read anything and cannot change anything.
//
// Two tiny static servers (Node's http) serve the same page on 127.0.0.1:ALLOWED_PORT and
// 127.0.0.1:REFUSED_PORT. Headless Chromium (playwright-core, the system's browser; nothing downloaded)
// opens each and calls the page's own script, which does real cross-origin fetches against the API.
//
// Inputs (environment):
//   STAFETTLOGG_URL    the server, e.g. http://127.0.0.1:8080 (its CORS_ALLOWED_ORIGINS must contain
//                      http://127.0.0.1:ALLOWED_PORT and must not contain http://127.0.0.1:REFUSED_PORT)
//   STAFETTLOGG_TOKEN  a professional's token; they hold CASE_ID (PATCH is the holder's)
//   CASE_ID            the case's id
//   ALLOWED_PORT, REFUSED_PORT  free ports for the two page servers
//   CHROMIUM           the browser binary (default /usr/bin/chromium)
//   CORS_TIMEOUT_MS    the whole check's deadline (default 60000)
//
// Prints one line per step; exits 1 with a message on the first mismatch.

import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import createClient from "openapi-fetch";
import { chromium, type BrowserContext } from "playwright-core";
import type { paths } from "../generated/schema.js";
import { CheckError, describeBody, env, eq, fail, ok, same, truthy } from "./check.js";

/** What the test hands the page's script. */
interface CorsConfig {
  api: string;
  token: string;
  caseId: string;
  /** Sent as If-Match when the page could not read an ETag itself (so the refused origin tries a write too). */
  etagHint: string;
  concern: string;
}

/** One fetch as the page saw it. */
type FetchOutcome =
  | { ok: true; status: number; etag: string | null; version: number | null }
  | { ok: false; error: string };

/** What the page's script reports back. */
interface CorsResult {
  origin: string;
  get: FetchOutcome;
  patch: FetchOutcome;
}

declare global {
  interface Window {
    runCorsCheck?: (cfg: CorsConfig) => Promise<CorsResult>;
  }
}

// The page's script. It runs in the browser (its source is put into the page as is), so it must not
// use anything from this module's scope.
async function runCorsCheck(cfg: CorsConfig): Promise<CorsResult> {
  const url = `${cfg.api}/api/v1/cases/${encodeURIComponent(cfg.caseId)}`;
  const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  const versionOf = async (r: Response): Promise<number | null> => {
    try {
      const body: unknown = await r.json();
      if (typeof body === "object" && body !== null && "version" in body && typeof body.version === "number") {
        return body.version;
      }
    } catch {
      // not JSON: reported as no version
    }
    return null;
  };
  let get: FetchOutcome;
  let etag: string | null = null;
  try {
    const r = await fetch(url, { headers: { Authorization: `Bearer ${cfg.token}` } });
    etag = r.headers.get("ETag");
    get = { ok: true, status: r.status, etag, version: await versionOf(r) };
  } catch (e) {
    get = { ok: false, error: describe(e) };
  }
  let patch: FetchOutcome;
  try {
    const r = await fetch(url, {
      method: "PATCH",
      headers: {
        Authorization: `Bearer ${cfg.token}`,
        "Content-Type": "application/json",
        "If-Match": etag ?? cfg.etagHint,
      },
      body: JSON.stringify({ concern: cfg.concern }),
    });
    patch = { ok: true, status: r.status, etag: r.headers.get("ETag"), version: await versionOf(r) };
  } catch (e) {
    patch = { ok: false, error: describe(e) };
  }
  const result: CorsResult = { origin: location.origin, get, patch };
  const out = document.getElementById("out");
  if (out) out.textContent = JSON.stringify(result, null, 2);
  return result;
}

const PAGE = `<!doctype html>
<html lang="nb">
<head><meta charset="utf-8"><title>Stafettlogg CORS check</title></head>
<body>
<h1>Stafettlogg CORS check</h1>
<pre id="out">not run yet</pre>
<script>
window.runCorsCheck = ${runCorsCheck.toString()};
</script>
</body>
</html>
`;

function port(name: string): number {
  const value = Number(env(name));
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new CheckError(`${name} is not a port number`);
  }
  return value;
}

function serve(portNumber: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === "GET" && (req.url === "/" || req.url?.startsWith("/?"))) {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
      res.end(PAGE);
    } else if (req.url === "/favicon.ico") {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("not found");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e) => reject(new CheckError(`cannot serve the page on 127.0.0.1:${portNumber}: ${e.message}`)));
    server.listen(portNumber, "127.0.0.1", () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function main(): Promise<void> {
  const api = env("STAFETTLOGG_URL").replace(/\/+$/, "");
  const token = env("STAFETTLOGG_TOKEN");
  const caseId = env("CASE_ID");
  const allowedPort = port("ALLOWED_PORT");
  const refusedPort = port("REFUSED_PORT");
  const executablePath = process.env.CHROMIUM?.trim() || "/usr/bin/chromium";
  const started = Date.now();

  // The typed client checks the case from outside the browser before and after.
  const client = createClient<paths>({
    baseUrl: api,
    headers: { Authorization: `Bearer ${token}` },
    fetch: (request: Request) => fetch(request, { signal: AbortSignal.timeout(15_000) }),
  });
  const readCase = async (step: string) => {
    const { data, error, response } = await client.GET("/api/v1/cases/{id}", { params: { path: { id: caseId } } });
    if (response.status !== 200 || !data) {
      fail(step, `GET the case from Node: expected 200, got ${response.status}: ${describeBody(error)}`);
    }
    const etag = response.headers.get("ETag");
    if (!etag) fail(step, "GET the case from Node: no ETag");
    return { etag, view: data };
  };

  const before = await readCase("before");
  {
    const { data: me, error, response } = await client.GET("/api/v1/me");
    if (response.status !== 200 || !me) fail("before", `GET /api/v1/me: expected 200, got ${response.status}: ${describeBody(error)}`);
    eq("before", "STAFETTLOGG_TOKEN's user holds CASE_ID: holder.user_id", before.view.holder.user_id, me.user_id);
    eq("before", "case status", before.view.status, "open");
  }
  ok("case readable from Node", `GET /api/v1/cases/{id} -> 200 (ETag ${before.etag})`);

  const servers: Server[] = [];
  const userDataDir = mkdtempSync(join(tmpdir(), "stafettlogg-cors-chromium-"));
  let context: BrowserContext | undefined;
  try {
    servers.push(await serve(allowedPort), await serve(refusedPort));
    ok("page servers", `http://127.0.0.1:${allowedPort}/ and http://127.0.0.1:${refusedPort}/`);

    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      timeout: 30_000,
    });
    context.setDefaultTimeout(20_000);
    const version = context.browser()?.version() ?? "unknown version";
    ok("chromium", `${executablePath} (${version}), headless`);

    const runFrom = async (portNumber: number, concern: string) => {
      if (!context) throw new CheckError("no browser");
      const page = await context.newPage();
      const consoleLines: string[] = [];
      page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      const origin = `http://127.0.0.1:${portNumber}`;
      const nav = await page.goto(`${origin}/`);
      if (!nav || nav.status() !== 200) fail(origin, `the page did not load (${nav?.status() ?? "no response"})`);
      const cfg: CorsConfig = { api, token, caseId, etagHint: before.etag, concern };
      const result = await page.evaluate((c) => {
        const run = window.runCorsCheck;
        if (!run) throw new Error("the page has no runCorsCheck");
        return run(c);
      }, cfg);
      await page.close();
      return { origin, result, consoleLines };
    };

    // The allowed origin: read, ETag visible, write with If-Match, new ETag visible.
    const allowedConcern = `Oppdatert fra nettleseren ${new Date().toISOString()}`;
    const allowed = await runFrom(allowedPort, allowedConcern);
    {
      const step = `allowed ${allowed.origin}`;
      const { get, patch } = allowed.result;
      eq(step, "page origin", allowed.result.origin, allowed.origin);
      if (!get.ok) fail(step, `GET failed in the browser: ${get.error} (console: ${allowed.consoleLines.join(" | ") || "empty"})`);
      eq(step, "GET status", get.status, 200);
      truthy(step, "GET: the ETag header is not readable (Access-Control-Expose-Headers?)", typeof get.etag === "string" && get.etag.length > 0);
      eq(step, "GET ETag = the ETag Node saw", get.etag, before.etag);
      if (!patch.ok) fail(step, `PATCH failed in the browser: ${patch.error} (console: ${allowed.consoleLines.join(" | ") || "empty"})`);
      eq(step, "PATCH status", patch.status, 200);
      truthy(step, "PATCH: the new ETag is not readable", typeof patch.etag === "string" && patch.etag.length > 0);
      truthy(step, `PATCH: the ETag did not change (${String(patch.etag)})`, patch.etag !== get.etag);
      ok(step, `GET -> 200 (ETag ${get.etag} readable), PATCH If-Match ${get.etag} -> 200 (new ETag ${patch.etag} readable)`);
    }
    const afterAllowed = await readCase("after allowed");
    {
      const step = "allowed write landed";
      same(step, "concern", afterAllowed.view.concern, allowedConcern);
      eq(step, "version", afterAllowed.view.version, before.view.version + 1);
      const pageEtag = allowed.result.patch.ok ? allowed.result.patch.etag : null;
      eq(step, "the page's new ETag = the ETag of a GET from Node", pageEtag, afterAllowed.etag);
      ok(step, `GET from Node -> version ${afterAllowed.view.version}, concern changed`);
    }

    // The refused origin: the browser gives the page nothing, and nothing changes.
    const refused = await runFrom(refusedPort, `Skal aldri lagres ${new Date().toISOString()}`);
    {
      const step = `refused ${refused.origin}`;
      const { get, patch } = refused.result;
      eq(step, "page origin", refused.result.origin, refused.origin);
      if (get.ok) fail(step, `GET was readable from a refused origin (status ${get.status}, ETag ${String(get.etag)})`);
      if (patch.ok) fail(step, `PATCH was readable from a refused origin (status ${patch.status})`);
      truthy(step, `GET failed, but not as a network error: ${get.error}`, get.error.startsWith("TypeError"));
      truthy(step, `PATCH failed, but not as a network error: ${patch.error}`, patch.error.startsWith("TypeError"));
      // Chromium says why in the console ("... has been blocked by CORS policy: ..."): the failure is CORS,
      // not an unreachable server.
      const corsMessages = refused.consoleLines.filter((l) => l.includes("CORS policy"));
      truthy(step, `no "CORS policy" message in the console (console: ${refused.consoleLines.join(" | ") || "empty"})`, corsMessages.length > 0);
      ok(step, `GET and PATCH -> ${get.error} (${corsMessages.length} CORS console message(s))`);
    }
    const afterRefused = await readCase("after refused");
    {
      const step = "refused write did not land";
      eq(step, "version", afterRefused.view.version, afterAllowed.view.version);
      eq(step, "ETag", afterRefused.etag, afterAllowed.etag);
      same(step, "concern", afterRefused.view.concern, allowedConcern);
      ok(step, `GET from Node -> version ${afterRefused.view.version}, unchanged`);
    }
  } finally {
    await context?.close().catch(() => undefined);
    await Promise.all(servers.map(closeServer));
    // Chromium's helper processes may still be writing into the profile for a moment after the
    // browser closed; the profile is a temporary directory, so a cleanup that gives up is no failure.
    try {
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (e) {
      console.warn(`warn could not remove ${userDataDir}: ${e}`);
    }
  }
  console.log(`PASS cors-browser in ${Date.now() - started} ms`);
}

const deadlineMs = Number(process.env.CORS_TIMEOUT_MS ?? "60000");
const deadline = setTimeout(() => {
  console.error(`FAIL cors-browser: no result within ${deadlineMs} ms`);
  process.exit(1);
}, deadlineMs);
deadline.unref();

main().catch((e: unknown) => {
  if (e instanceof CheckError) {
    console.error(`FAIL ${e.message}`);
  } else {
    console.error(`FAIL unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  process.exit(1);
});
