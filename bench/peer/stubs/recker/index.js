// Stub of `recker` (see bench/peer/README.md, "Stubs"). s3db.js imports these names
// statically, so they must exist for `import 's3db.js'` to link; none of them is reached
// by the benchmark (bench.mjs sets httpClientOptions.useReckerHandler=false, so the AWS
// SDK's own Node HTTP handler carries every S3 request). Anything that does call into
// recker fails loudly instead of silently doing something else.
function unavailable(name) {
  return function () {
    throw new Error(`recker stub: ${name} is not available (recker@1.0.103 is not installable here)`);
  };
}
export const createClient = unavailable('createClient');
export const expandHTTP2Options = unavailable('expandHTTP2Options');
export const parseHttp2Error = unavailable('parseHttp2Error');
export const createHttp2MetricsHooks = unavailable('createHttp2MetricsHooks');
export const getGlobalHttp2Metrics = unavailable('getGlobalHttp2Metrics');
export const createRedDbClient = unavailable('createRedDbClient');
export class Http2Error extends Error {}
export class TemplateEngine {
  constructor() { unavailable('TemplateEngine')(); }
}
export default {};
