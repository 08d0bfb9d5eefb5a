/**
 * `npm run eval`: the memory eval (eval/run.ts) over the households in test/fixtures/eval, printed
 * as a table and kept as JSON in eval/results/. `-- --quick` runs the first household's first five sessions;
 * `-- --misses` also prints each question whose fact was not ranked first, with what was.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EvalMiss, reportLines, runEval } from './run.js';

const quick = process.argv.includes('--quick');
const misses = process.argv.includes('--misses');
// With a key, the answer-level eval asks the real model (the rest always uses the scripted one).
const apiKey = process.env.OPENAI_API_KEY;
const report = await runEval({
  quick,
  ...(apiKey
    ? { answerModel: { apiKey, ...(process.env.HEARTH_MODEL ? { model: process.env.HEARTH_MODEL } : {}) } }
    : {}),
  progress: (line) => process.stderr.write(`· ${line}\n`),
  ...(misses
    ? {
        onMiss: (miss: EvalMiss) =>
          console.log(
            `miss (${miss.kind}): ${miss.question}\n  wanted: ${miss.wanted}\n  found:  ${miss.found.join(' | ')}`,
          ),
      }
    : {}),
});
for (const line of reportLines(report)) console.log(line);
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), quick, ...report }, null, 2)}\n`);
process.stderr.write(`· wrote ${path.relative(process.cwd(), file)}\n`);
