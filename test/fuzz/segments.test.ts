// Fuzz: random and mutated segments thrown at sockets in every state (segments-run.ts). Nothing
// may throw out of the receive path, the connection invariants must hold after every segment,
// and the malformed ones must be counted (InCsumErrors, InErrs, IpInHdrErrors) and change
// nothing else. LINGER_FUZZ_SEGMENTS sets the total (default 100000; npm run soak does 10^7).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzSegments } from './segments-run.ts';

const TOTAL = Number(process.env['LINGER_FUZZ_SEGMENTS'] ?? 100_000);

test(`${TOTAL} random and mutated segments against sockets in every state`, () => {
  const { decodable, answered } = fuzzSegments(TOTAL, 0xf022);
  // The fuzz reached the TCP state machines: a good share of segments drew an answer.
  assert.ok(decodable > TOTAL / 2, `decodable ${decodable}`);
  assert.ok(answered > TOTAL / 10, `answered ${answered}`);
  console.log(`segments: ${TOTAL}, decodable ${decodable}, answers ${answered}`);
});
