// Fails with a clear instruction when the npm packages of the e2e suites are not installed.
// Registered with CTest as e2e.node_modules (a fixture every e2e suite requires).
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const tests = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lock = JSON.parse(fs.readFileSync(path.join(tests, 'package-lock.json'), 'utf8'));
const missing = [];
for (const [name, spec] of Object.entries(lock.packages['']?.devDependencies || {})) {
  const pj = path.join(tests, 'node_modules', name, 'package.json');
  if (!fs.existsSync(pj)) { missing.push(`${name} (not installed)`); continue; }
  const version = JSON.parse(fs.readFileSync(pj, 'utf8')).version;
  if (version !== spec) missing.push(`${name} ${version} installed, ${spec} pinned`);
}
if (missing.length) {
  console.error(`e2e dependencies missing or stale: ${missing.join(', ')}\n` +
                `Run \`npm ci\` in ${tests} first.`);
  process.exit(1);
}
console.log('e2e dependencies present');
