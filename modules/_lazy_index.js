// Preloaded into the jsii node runtime (NODE_OPTIONS=--require) by modules/_lazy_providers.py.
//
// Each @cdktf/provider-* package's lib/index.js requires all of its ~2000
// submodules, which costs the node runtime ~420 MB per provider. We compile that
// one file differently: every `exports.x = require("./x")` line becomes a getter
// that requires the submodule on first access. If the file holds anything other
// than those lines, it is loaded unchanged, so a new layout stays correct.
"use strict";
const Module = require("module");
const fs = require("fs");

const INDEX = /[\\/]@cdktf[\\/]provider-[a-z0-9-]+[\\/](?:.*[\\/])?lib[\\/]index\.js$/;
const EXPORT = /^exports\.([A-Za-z0-9_$]+) = require\("(\.\/[^"]+)"\);$/;
const HARMLESS = [
  /^\s*$/, /^"use strict";$/, /^\s*(\/\/|\/\*|\*)/,
  /^Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);$/,
  /^exports\.[A-Za-z0-9_$]+ = (exports\.[A-Za-z0-9_$]+ = )*void 0;$/,
];

const compileJs = Module._extensions[".js"];
Module._extensions[".js"] = function (module, filename) {
  if (!INDEX.test(filename)) return compileJs(module, filename);
  const exported = [];
  for (const line of fs.readFileSync(filename, "utf8").split("\n")) {
    const match = EXPORT.exec(line);
    if (match) exported.push([match[1], match[2]]);
    else if (!HARMLESS.some((re) => re.test(line))) return compileJs(module, filename);
  }
  Object.defineProperty(module.exports, "__esModule", { value: true });
  for (const [name, request] of exported) {
    Object.defineProperty(module.exports, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = module.require(request);
        Object.defineProperty(module.exports, name, { value, enumerable: true });
        return value;
      },
    });
  }
};
