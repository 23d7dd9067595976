// Stub of `cli-args-parser` (see bench/peer/README.md, "Stubs"): used only by s3db.js's
// CLI (dist/cli/index.js), which the benchmark does not run.
export function createCLI() {
  throw new Error('cli-args-parser stub: createCLI is not available (the package is not installable here)');
}
export default {};
