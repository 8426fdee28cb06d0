// Generates generated/schema.d.ts from the OpenAPI contract with openapi-typescript.
// The spec path is ../../openapi/openapi.json unless the environment variable SPEC names another
// (relative paths are taken from the directory npm was started in, like the CLI would).
// Portable replacement for `openapi-typescript ${SPEC:-../../openapi/openapi.json} -o generated/schema.d.ts`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cwd = process.env.INIT_CWD ?? process.cwd();
const spec = process.env.SPEC ? resolve(cwd, process.env.SPEC) : resolve(root, "../../openapi/openapi.json");
if (!existsSync(spec)) {
  console.error(`generate: spec not found: ${spec}`);
  process.exit(2);
}
const out = join(root, "generated", "schema.d.ts");
mkdirSync(dirname(out), { recursive: true });
const cli = join(root, "node_modules", "openapi-typescript", "bin", "cli.js");
console.error(`generate: ${spec} -> ${out}`);
const r = spawnSync(process.execPath, [cli, spec, "-o", out], { stdio: "inherit", cwd: root });
process.exit(r.status ?? 1);
