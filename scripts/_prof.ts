import { lingerBulk } from '../src/bench/cases.ts';
lingerBulk(64<<20, 1500);
const t=performance.now(); const g=lingerBulk(256<<20, 1500); console.log(g, performance.now()-t);
