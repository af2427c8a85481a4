// Loaded (--import) into @doyensec/electronegativity by scripts/electronegativity.mjs. The tool fetches
// translations from the internet with `got` (1 s timeout) before it scans; without a network,
// got's retry timer later throws "The `onCancel` handler was attached after the promise settled"
// (a bug of got's) from a timer, which ended the process before the report was written — in CI
// now and then, depending on how long the scan took. The build must not use the network, so
// the tool's `got` answers at once with a refusal, which the tool already handles (it keeps its
// bundled English texts).
import Module from 'node:module';

const load = Module._load;
Module._load = function loadWithoutNetwork(request, parent, isMain) {
  if (request === 'got' && parent && parent.filename.includes('electronegativity')) {
    return () => Promise.reject(new Error('no network in this build'));
  }
  return load.call(this, request, parent, isMain);
};
