'use strict';

/** Custom serialize/deserialize pairs the workloads and the state opener share (functions cannot travel as JSON). */
const SERIALIZE_FORMATS = {
  // one `key=JSON` line per top-level key
  lines: {
    serialize: value =>
      Object.entries(value)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join('\n'),
    deserialize: text =>
      Object.fromEntries(
        text
          .split('\n')
          .filter(Boolean)
          .map(line => {
            const i = line.indexOf('=');
            return [line.slice(0, i), JSON.parse(line.slice(i + 1))];
          }),
      ),
  },
};

module.exports = { SERIALIZE_FORMATS };
