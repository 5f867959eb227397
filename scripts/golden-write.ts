// Rewrites test/golden/*: run only when a behaviour change is intended, and give the reason in the
// commit message (`npm run golden:write`).
import { writeFileSync } from 'node:fs';
import { DRILL_FILE, LAB_FILE, PCAP_FILE, drillLines, labLines } from '../test/golden/compute.ts';

const { json, pcap } = await labLines();
writeFileSync(LAB_FILE, json.join('\n') + '\n');
writeFileSync(PCAP_FILE, pcap.join('\n') + '\n');
const drill = drillLines();
writeFileSync(DRILL_FILE, drill.join('\n') + '\n');
console.log(`golden: ${json.length} scenarios (JSON and pcap), ${drill.length} drill scripts written`);
