// Resolve hook (see register.mjs): `fs` and `node:fs` resolve to fs-with-globsync.mjs, except
// for that module itself, which needs the real one.
const shim = new URL("./fs-with-globsync.mjs", import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if ((specifier === "fs" || specifier === "node:fs") && context.parentURL !== shim) {
    return { url: shim, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
