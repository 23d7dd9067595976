// Stub of `tuiuiu.js` (see bench/peer/README.md, "Stubs"): terminal colours and prompts
// for s3db.js's CLI, and the worker-thread bridge of its optional ThreadPool (off unless
// `threading` is set; the benchmark leaves it off). Every export throws when called.
function unavailable(name) {
  return function () {
    throw new Error(`tuiuiu.js stub: ${name} is not available (tuiuiu.js@1.0.63 is not installable here)`);
  };
}
export const prompt = unavailable('prompt');
export const c = unavailable('c');
export const tpl = unavailable('tpl');
export const compose = unavailable('compose');
export const red = unavailable('red');
export const green = unavailable('green');
export const yellow = unavailable('yellow');
export const cyan = unavailable('cyan');
export const gray = unavailable('gray');
export const bold = unavailable('bold');
export const dim = unavailable('dim');
export const createTaskBridgePool = unavailable('createTaskBridgePool');
export const createInlineBackgroundExecutor = unavailable('createInlineBackgroundExecutor');
export const createTaskBridge = unavailable('createTaskBridge');
export default {};
