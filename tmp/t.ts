import { z } from 'zod/mini';
import { schemaFor } from '../lib/run-instances/index.ts';

const s = schemaFor('current');
const j = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
console.log(JSON.stringify(j).length, Object.keys(j), JSON.stringify(j).slice(0, 600));
